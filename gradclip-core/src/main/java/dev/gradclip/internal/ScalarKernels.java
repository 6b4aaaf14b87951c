package dev.gradclip.internal;

import dev.gradclip.ClampResult;

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

    /**
     * {@inheritDoc}
     *
     * <p>The squares before are summed exactly as {@link #sumOfSquares} sums them (four accumulators
     * over the elements {@code i mod 4}), so the two agree bit for bit; the squares after likewise.
     * Every element is written back, changed or not (the same bits when unchanged), which keeps the
     * loop free of branches that depend on the data.
     */
    @Override
    public ClampResult clampInOnePass(float[] a, int from, int to, float limit, boolean zeroNonFinite) {
        double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        long changed = 0;
        long bad = 0;
        int first = -1;
        float firstValue = 0f;
        float low = -limit;
        int i = from;
        for (; i < to; i += 4) {
            int n = Math.min(4, to - i);
            for (int k = 0; k < n; k++) {
                float x = a[i + k];
                if (!Float.isFinite(x)) {
                    if (bad++ == 0) {
                        first = i + k;
                        firstValue = x;
                    }
                    if (zeroNonFinite) {
                        a[i + k] = 0f;
                    }
                }
            }
            if (n < 4) {
                break;
            }
            float x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3];
            double d0 = x0, d1 = x1, d2 = x2, d3 = x3;
            b0 += d0 * d0;
            b1 += d1 * d1;
            b2 += d2 * d2;
            b3 += d3 * d3;
            changed += outside(x0, limit) + outside(x1, limit) + outside(x2, limit) + outside(x3, limit);
            // Math.max returns a NaN argument itself, so NaN keeps its bits
            float y0 = Math.min(Math.max(x0, low), limit), y1 = Math.min(Math.max(x1, low), limit);
            float y2 = Math.min(Math.max(x2, low), limit), y3 = Math.min(Math.max(x3, low), limit);
            a[i] = y0;
            a[i + 1] = y1;
            a[i + 2] = y2;
            a[i + 3] = y3;
            double e0 = y0, e1 = y1, e2 = y2, e3 = y3;
            p0 += e0 * e0;
            p1 += e1 * e1;
            p2 += e2 * e2;
            p3 += e3 * e3;
        }
        for (; i < to; i++) {
            float x = a[i];
            double d = x;
            b0 += d * d;
            changed += outside(x, limit);
            float y = Math.min(Math.max(x, low), limit);
            a[i] = y;
            double e = y;
            p0 += e * e;
        }
        return new ClampResult((b0 + b1) + (b2 + b3), (p0 + p1) + (p2 + p3), changed, bad, first, firstValue);
    }

    private static int outside(float x, float limit) {
        return x > limit || x < -limit ? 1 : 0;
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
