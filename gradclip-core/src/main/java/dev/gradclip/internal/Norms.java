package dev.gradclip.internal;

/**
 * Validation and combination of p-norms, shared by every clipper and backend. Not public API.
 */
public final class Norms {

    private Norms() {
    }

    /**
     * Checks a norm type.
     *
     * @param name the argument's name for the message
     * @param p    the norm type
     * @return {@code p}
     * @throws IllegalArgumentException unless {@code p ≥ 1} (finite) or {@code p = +∞}
     */
    public static double checkNormType(String name, double p) {
        if (!(p >= 1.0)) {
            throw new IllegalArgumentException(name + " must be >= 1 or Double.POSITIVE_INFINITY, got " + p
                    + "; use 2 for the usual L2 norm");
        }
        return p;
    }

    /**
     * Checks a threshold.
     *
     * @param name  the argument's name for the message
     * @param value the threshold
     * @return {@code value}
     * @throws IllegalArgumentException unless the value is finite and positive
     */
    public static double checkThreshold(String name, double value) {
        if (!(value > 0.0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and positive, got " + value);
        }
        return value;
    }

    /**
     * Combines norms of parts into the norm of the whole: {@code (Σ n_i^p)^(1/p)}, or {@code max n_i}
     * for {@code p = ∞}. NaN if any part is NaN, +∞ if any is infinite, 0 for no parts. Scaled by the
     * largest part, so it never overflows.
     *
     * @param norms the parts' norms (non-negative)
     * @param from  first index, inclusive
     * @param to    last index, exclusive
     * @param p     the norm type
     * @return the combined norm
     */
    public static double combine(double[] norms, int from, int to, double p) {
        double max = 0;
        for (int i = from; i < to; i++) {
            double n = norms[i];
            if (Double.isNaN(n)) {
                return Double.NaN;
            }
            max = Math.max(max, n);
        }
        if (p == Double.POSITIVE_INFINITY || max == 0 || max == Double.POSITIVE_INFINITY) {
            return max;
        }
        if (p == 1.0) {
            double s = 0;
            for (int i = from; i < to; i++) {
                s += norms[i];
            }
            return s;
        }
        double s = 0;
        if (p == 2.0) {
            for (int i = from; i < to; i++) {
                double r = norms[i] / max;
                s += r * r;
            }
            return max * Math.sqrt(s);
        }
        for (int i = from; i < to; i++) {
            s += Math.pow(norms[i] / max, p);
        }
        return max * Math.pow(s, 1.0 / p);
    }

    /**
     * @param norms norms by index
     * @param p     the norm type
     * @return {@link #combine(double[], int, int, double)} over the whole array
     */
    public static double combine(double[] norms, double p) {
        return combine(norms, 0, norms.length, p);
    }
}
