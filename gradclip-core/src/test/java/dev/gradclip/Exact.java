package dev.gradclip;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Exact references for the tests: sums of floats computed in {@link BigDecimal}, where every float
 * and every product of floats is represented without rounding, so the only rounding is the final
 * conversion to {@code double}.
 */
public final class Exact {

    /** Enough digits that the conversion to double is the only rounding that matters. */
    public static final MathContext MC = new MathContext(40);

    private Exact() {
    }

    /** @return {@code Σ a_i²} exactly, over {@code a[from, to)} */
    public static BigDecimal sumOfSquares(float[] a, int from, int to) {
        BigDecimal s = BigDecimal.ZERO;
        for (int i = from; i < to; i++) {
            BigDecimal x = new BigDecimal(a[i]);
            s = s.add(x.multiply(x));
        }
        return s;
    }

    /** @return {@code Σ |a_i|} exactly */
    public static BigDecimal sumOfAbs(float[] a, int from, int to) {
        BigDecimal s = BigDecimal.ZERO;
        for (int i = from; i < to; i++) {
            s = s.add(new BigDecimal(Math.abs(a[i])));
        }
        return s;
    }

    /** @return {@code Σ |a_i|^p} exactly, for an integer {@code p ≥ 1} */
    public static BigDecimal sumOfPowers(float[] a, int from, int to, int p) {
        BigDecimal s = BigDecimal.ZERO;
        for (int i = from; i < to; i++) {
            s = s.add(new BigDecimal(Math.abs(a[i])).pow(p));
        }
        return s;
    }

    /** @return the L2 norm of all arrays together, correctly rounded to about 1 ulp */
    public static double l2(float[]... arrays) {
        BigDecimal s = BigDecimal.ZERO;
        for (float[] a : arrays) {
            s = s.add(sumOfSquares(a, 0, a.length));
        }
        return s.sqrt(MC).doubleValue();
    }

    /**
     * @return the p-norm of all arrays together, for an integer {@code p ≥ 1}: the exact sum, then a
     *         root taken in double (error about 1 ulp)
     */
    public static double pNorm(int p, float[]... arrays) {
        if (p == 2) {
            return l2(arrays);
        }
        BigDecimal s = BigDecimal.ZERO;
        for (float[] a : arrays) {
            s = s.add(sumOfPowers(a, 0, a.length, p));
        }
        if (p == 1) {
            return s.doubleValue();
        }
        // scale into double range before the root: the sum of cubes of 3e38 floats exceeds nothing
        // in double, but higher powers could, so divide by a power of ten first
        int shift = Math.max(0, s.precision() - s.scale() - 300);
        double scaled = s.movePointLeft(shift).doubleValue();
        return Math.pow(scaled, 1.0 / p) * Math.pow(10, shift / (double) p);
    }

    /** @return {@code max |a_i|} over all arrays */
    public static double maxAbs(float[]... arrays) {
        float m = 0;
        for (float[] a : arrays) {
            for (float x : a) {
                m = Math.max(m, Math.abs(x));
            }
        }
        return m;
    }

    /** @return {@code |x - exact| / |exact|}, or {@code |x|} when exact is 0 */
    public static double relativeError(double x, BigDecimal exact) {
        if (exact.signum() == 0) {
            return Math.abs(x);
        }
        return new BigDecimal(x).subtract(exact).abs().divide(exact.abs(), MC).doubleValue();
    }

    /** @return {@code |x - exact| / |exact|}, or {@code |x|} when exact is 0 */
    public static double relativeError(double x, double exact) {
        return relativeError(x, new BigDecimal(exact));
    }
}
