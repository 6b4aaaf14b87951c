package dev.gradclip.internal;

/**
 * How a {@code double} factor is applied to {@code float} data without either failure of a single
 * multiplication by {@code (float) factor}: a factor below the smallest normal float (1.18e-38)
 * rounds to a subnormal with few significant bits, or to 0, which zeroes finite gradients; a factor
 * above the largest float (3.4e38) rounds to infinity, which turns finite gradients into infinities
 * and zeros into NaN (renormalizing a gradient of norm 1.4e-45 multiplies by 7.1e44).
 *
 * <p>The factor is split into exact powers of two and a {@code float} {@link #factor()}, applied in
 * this order: {@link #upSteps()} multiplications by {@link #UP} (2^127), one by {@link #factor()}, then
 * {@link #downSteps()} multiplications by {@link #DOWN} (2^-126). Why this order is safe:
 * <ul>
 *   <li>a huge factor ({@code (float) factor} infinite) leaves a {@link #factor()} of magnitude at
 *       least 1, so the powers of two go first: multiplying by a power of two is exact unless it
 *       overflows, and it overflows only when the true product does. The result is then the float
 *       nearest {@code x · r}, where {@code r} is the factor rounded to 24 significant bits: what
 *       one multiplication by a float of unlimited range would give;</li>
 *   <li>a tiny factor leaves a {@link #factor()} of magnitude below 1 and at least 2^-126, so it goes
 *       first (no intermediate can overflow) and the powers of two after: they are exact while the
 *       result stays normal, and a subnormal result is off by at most one subnormal step
 *       (1.4e-45);</li>
 *   <li>any other factor is one multiplication by {@code (float) factor}, as before; 0, NaN and the
 *       infinities too (a true product with an infinite factor is infinite, or NaN for 0).</li>
 * </ul>
 * The sign rides on {@link #factor()}. Not public API.
 *
 * @param factor    the float to multiply by once
 * @param upSteps   how many multiplications by {@link #UP} come before it
 * @param downSteps how many multiplications by {@link #DOWN} come after it
 */
public record ScaleSteps(float factor, int upSteps, int downSteps) {

    /** 2^127, the largest power of two a float holds: the step for factors above the float range. */
    public static final float UP = 0x1p127f;
    /** 2^-126, the smallest normal float: the step for factors below the normal range. */
    public static final float DOWN = 0x1p-126f;

    /**
     * Splits a factor.
     *
     * @param factor any double
     * @return the steps; one plain step ({@code (float) factor}, no powers) unless the factor is
     *         finite, non-zero and outside the normal float range
     */
    public static ScaleSteps of(double factor) {
        double f = Math.abs(factor);
        if (!(f > 0) || f == Double.POSITIVE_INFINITY) {
            return new ScaleSteps((float) factor, 0, 0);
        }
        int down = 0;
        while (f < Float.MIN_NORMAL) {
            f *= 0x1p126;
            down++;
        }
        int up = 0;
        while (Float.isInfinite((float) f)) {
            f *= 0x1p-127;
            up++;
        }
        // exact: the steps are powers of two and f stays a normal double
        double m = Math.scalb(factor, 126 * down - 127 * up);
        return new ScaleSteps((float) m, up, down);
    }

    /** @return whether the factor is applied as one multiplication */
    public boolean single() {
        return upSteps == 0 && downSteps == 0;
    }
}
