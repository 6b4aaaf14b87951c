package dev.gradclip.internal;

/**
 * The reference kernels: plain loops, four independent double accumulators so the sums do not
 * wait on one another. Always available. Not public API.
 */
public final class ScalarKernels implements FloatKernels {

    /** The single instance. */
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public double sumOfSquares(float[] a, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            double x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3];
            s0 += x0 * x0;
            s1 += x1 * x1;
            s2 += x2 * x2;
            s3 += x3 * x3;
        }
        for (; i < to; i++) {
            double x = a[i];
            s0 += x * x;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public double sumOfAbs(float[] a, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += Math.abs(a[i]);
            s1 += Math.abs(a[i + 1]);
            s2 += Math.abs(a[i + 2]);
            s3 += Math.abs(a[i + 3]);
        }
        for (; i < to; i++) {
            s0 += Math.abs(a[i]);
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public double maxAbs(float[] a, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) {
            float x = Math.abs(a[i]);
            if (!(x <= m)) { // true for NaN, so NaN sticks
                m = x;
                if (Float.isNaN(x)) {
                    return Double.NaN;
                }
            }
        }
        return m;
    }

    @Override
    public double sumOfScaledPowers(float[] a, int from, int to, double p, double scale) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += Math.pow(Math.abs(a[i]) / scale, p);
        }
        return s;
    }

    @Override
    public void scale(float[] a, int from, int to, float factor) {
        for (int i = from; i < to; i++) {
            a[i] *= factor;
        }
    }

    @Override
    public double clampSumOfSquares(float[] a, int from, int to, float limit, long[] changed) {
        long count = 0;
        float low = -limit;
        double sum = 0;
        for (int i = from; i < to; i++) {
            float x = a[i];
            if (x > limit) {
                x = limit;
                a[i] = x;
                count++;
            } else if (x < low) {
                x = low;
                a[i] = x;
                count++;
            }
            double d = x;
            sum += d * d;
        }
        changed[0] = count;
        return sum;
    }

    @Override
    public long clamp(float[] a, int from, int to, float limit) {
        long changed = 0;
        float low = -limit;
        for (int i = from; i < to; i++) {
            float x = a[i];
            if (x > limit) {
                a[i] = limit;
                changed++;
            } else if (x < low) {
                a[i] = low;
                changed++;
            }
        }
        return changed;
    }

    @Override
    public int firstNonFinite(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(a[i])) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public long countNonFinite(float[] a, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(a[i])) {
                n++;
            }
        }
        return n;
    }

    @Override
    public long zeroNonFinite(float[] a, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(a[i])) {
                a[i] = 0f;
                n++;
            }
        }
        return n;
    }
}
