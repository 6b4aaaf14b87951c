package dev.gradclip.internal;

import dev.gradclip.ClampResult;

/**
 * The loops over {@code float[]} ranges that every clipper of the array backend reduces to. Two
 * implementations pass one contract test: {@link ScalarKernels} (the reference) and
 * {@code dev.gradclip.internal.vector.SimdKernels} ({@code jdk.incubator.vector}). Choose with
 * {@link Kernels#get()}.
 *
 * <p>All methods work on {@code a[from, to)}; sums accumulate in {@code double}. Not public API.
 */
public interface FloatKernels {

    /** @return {@code "scalar"} or {@code "simd"} */
    String name();

    /**
     * @return {@code Σ a_i²} in double; NaN if any element is NaN, +∞ if any is infinite; never
     *         overflows for finite input
     */
    double sumOfSquares(float[] a, int from, int to);

    /** @return {@code Σ |a_i|} in double, with NaN/∞ as for {@link #sumOfSquares} */
    double sumOfAbs(float[] a, int from, int to);

    /** @return {@code max |a_i|}, NaN if any element is NaN, 0 for an empty range */
    double maxAbs(float[] a, int from, int to);

    /**
     * @return {@code Σ (|a_i|/scale)^p} in double, for finite {@code p ≥ 1} and a positive finite
     *         scale (callers pass the max-abs so no term exceeds 1)
     */
    double sumOfScaledPowers(float[] a, int from, int to, double p, double scale);

    /** Multiplies every element by {@code factor}: one float multiplication each. */
    void scale(float[] a, int from, int to, float factor);

    /**
     * Multiplies every element by a {@code double} factor rounded to float, in the steps of
     * {@link ScaleSteps}: a factor below the smallest normal float, or one whose float rounding
     * overflows (above 3.4e38), is applied as exact powers of two and a float, each step a
     * {@link #scale} pass. So finite data times a finite factor become infinite only where the true
     * product exceeds the float range, and never NaN; a tiny factor keeps its full precision. Any
     * other factor is exactly one {@link #scale} by {@code (float) factor}.
     *
     * @param a      the data
     * @param from   first index, inclusive
     * @param to     last index, exclusive
     * @param factor the factor; 0, NaN and the infinities are one plain multiplication
     */
    default void scaleInSteps(float[] a, int from, int to, double factor) {
        ScaleSteps s = ScaleSteps.of(factor);
        for (int i = 0; i < s.upSteps(); i++) {
            scale(a, from, to, ScaleSteps.UP);
        }
        scale(a, from, to, s.factor());
        for (int i = 0; i < s.downSteps(); i++) {
            scale(a, from, to, ScaleSteps.DOWN);
        }
    }

    /**
     * Clamps every element to {@code [-limit, limit]}; NaN stays NaN.
     *
     * @return the number of elements changed
     */
    long clamp(float[] a, int from, int to, float limit);

    /**
     * Clamps as {@link #clamp} and measures the result in the same pass: one read and, where an
     * element changes, one write, instead of a clamp pass and a second read for the norm after it.
     *
     * @param changed receives the number of elements changed in {@code changed[0]}
     * @return {@code Σ a_i²} of the clamped range, as {@link #sumOfSquares} would return it
     */
    double clampSumOfSquares(float[] a, int from, int to, float limit, long[] changed);

    /**
     * Value clipping in one read-and-write pass: measures the squares as read, checks for non-finite
     * elements, clamps to {@code [-limit, limit]} and measures the squares as written, reading each
     * element from memory once. For every element {@code x}, in order:
     * <ol>
     *   <li>if {@code x} is NaN or infinite it is counted (the first one's index and value kept) and,
     *       with {@code zeroNonFinite}, replaced by 0;</li>
     *   <li>{@code x²} is added to the sum before;</li>
     *   <li>{@code x} is clamped as {@link #clamp} does (NaN stays NaN, ±∞ becomes ±limit) and
     *       counted when that changes it;</li>
     *   <li>the square of the clamped value is added to the sum after.</li>
     * </ol>
     * It writes before it has seen the whole range, so it cannot leave the range untouched when a
     * later element turns out non-finite: callers that must (the {@code THROW} and {@code SKIP}
     * policies) check first and use {@link #clampSumOfSquares}. Sums are as accurate as
     * {@link #sumOfSquares}'s; an index in the result is an index into {@code a}.
     *
     * @param a             the data, clamped in place
     * @param from          first index, inclusive
     * @param to            last index, exclusive
     * @param limit         the bound, positive and finite
     * @param zeroNonFinite whether NaN and infinite elements are replaced by 0 before clamping
     * @return the sums and counts
     */
    ClampResult clampInOnePass(float[] a, int from, int to, float limit, boolean zeroNonFinite);

    /** @return the index of the first NaN or infinite element, or -1 */
    int firstNonFinite(float[] a, int from, int to);

    /** @return the number of NaN and infinite elements */
    long countNonFinite(float[] a, int from, int to);

    /**
     * Replaces NaN and infinite elements with 0.
     *
     * @return the number replaced
     */
    long zeroNonFinite(float[] a, int from, int to);
}
