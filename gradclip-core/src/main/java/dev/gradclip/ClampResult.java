package dev.gradclip;

/**
 * What one pass of value clipping over a tensor measured and did ({@link Gradients#clampInOnePass}):
 * the sums of squares before and after the clamp, the elements the clamp changed, and the
 * non-finite elements met on the way.
 *
 * <p>Sums are accumulated in {@code double}: {@code sumOfSquaresBefore = Σ g_i²} over the elements
 * as read (after replacing non-finite ones with 0 when asked to), NaN if one is NaN, +∞ if one is
 * infinite and none is NaN; {@code sumOfSquaresAfter = Σ min(max(g_i, -c), c)²} over the elements as
 * left. An empty tensor gives zeros and {@code firstNonFinite = -1}.
 *
 * @param sumOfSquaresBefore  {@code Σ g_i²} before clamping
 * @param sumOfSquaresAfter   {@code Σ g_i²} after clamping
 * @param changed             the number of elements the clamp changed (replaced non-finite ones
 *                            not counted)
 * @param nonFiniteCount      the number of NaN and infinite elements as read
 * @param firstNonFinite      the flat index of the first of them, or -1
 * @param firstNonFiniteValue its value as read (NaN or an infinity), or 0 when there is none
 */
public record ClampResult(double sumOfSquaresBefore, double sumOfSquaresAfter, long changed, long nonFiniteCount,
        long firstNonFinite, float firstNonFiniteValue) {

    /**
     * Adds two results of consecutive ranges, the first one first: sums and counts add; the first
     * non-finite element is this one's if it has one, else {@code next}'s.
     *
     * @param next the result of the range that follows
     * @return the combined result
     */
    public ClampResult plus(ClampResult next) {
        boolean mine = firstNonFinite >= 0;
        return new ClampResult(sumOfSquaresBefore + next.sumOfSquaresBefore, sumOfSquaresAfter + next.sumOfSquaresAfter,
                changed + next.changed, nonFiniteCount + next.nonFiniteCount,
                mine ? firstNonFinite : next.firstNonFinite, mine ? firstNonFiniteValue : next.firstNonFiniteValue);
    }
}
