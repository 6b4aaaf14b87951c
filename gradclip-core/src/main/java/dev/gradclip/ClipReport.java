package dev.gradclip;

import java.util.Arrays;
import java.util.List;

/**
 * What one clipping call did: the norms before and after, the coefficient applied, the threshold,
 * whether anything was clipped or the step must be skipped, the non-finite values met, and the
 * tensors with the largest norms (attribution: which parameters drove the norm).
 *
 * <p>Norms are in the clipper's norm type ({@link #normType()}); clippers that do not decide by a
 * norm (value, AGC) report the L2 norm. {@code normAfter} is derived from the coefficients applied
 * ({@code normBefore · coefficient} for a global clip), not measured again, so a report costs no
 * extra pass over the gradients except for value clipping, which measures it.
 *
 * @param method               the clipper's name, e.g. {@code "global-norm"}
 * @param normType             the p of the norms reported (2 unless the clipper says otherwise)
 * @param normBefore           the global norm before clipping (NaN/∞ when non-finite values were met)
 * @param normAfter            the global norm after clipping (equal to {@code normBefore} when not
 *                             clipped; equal to it as well when skipped)
 * @param coefficient          the factor applied: {@code c/n} for a global clip, the smallest factor
 *                             applied for per-tensor, per-group and unit-wise methods,
 *                             {@code normAfter/normBefore} for value clipping, 1 when nothing changed
 * @param threshold            the threshold in force at this step (for adaptive clippers, the one
 *                             they computed); NaN for methods without one
 * @param clipped              whether any gradient value was changed by the clipping rule
 * @param skipped              whether the caller must skip this step (non-finite values under
 *                             {@link NonFinitePolicy#SKIP}, or a spike guard); gradients are then
 *                             untouched
 * @param clippedCount         how many things were clipped: elements (value), tensors (per tensor),
 *                             groups (per group), units (AGC), or 1/0 for a global clip
 * @param nonFiniteCount       the number of NaN and infinite gradient elements met
 * @param firstNonFiniteTensor the name of the first tensor holding one, or {@code null}
 * @param firstNonFiniteIndex  the flat index of the first such element in it, or -1
 * @param tensorNorms          the norm of every tensor before clipping, by tensor number
 * @param largest              the tensors with the largest norms, largest first
 */
public record ClipReport(
        String method,
        double normType,
        double normBefore,
        double normAfter,
        double coefficient,
        double threshold,
        boolean clipped,
        boolean skipped,
        long clippedCount,
        long nonFiniteCount,
        String firstNonFiniteTensor,
        long firstNonFiniteIndex,
        double[] tensorNorms,
        List<TensorNorm> largest) {

    /**
     * Makes a report, copying the mutable components so that it never changes afterwards.
     *
     * @param method               the clipper's name, e.g. {@code "global-norm"}
     * @param normType             the p of the norms reported (2 unless the clipper says otherwise)
     * @param normBefore           the global norm before clipping (NaN/∞ when non-finite values were met)
     * @param normAfter            the global norm after clipping (equal to {@code normBefore} when not
     *                             clipped; equal to it as well when skipped)
     * @param coefficient          the factor applied: {@code c/n} for a global clip, the smallest factor
     *                             applied for per-tensor, per-group and unit-wise methods,
     *                             {@code normAfter/normBefore} for value clipping, 1 when nothing changed
     * @param threshold            the threshold in force at this step (for adaptive clippers, the one
     *                             they computed); NaN for methods without one
     * @param clipped              whether any gradient value was changed by the clipping rule
     * @param skipped              whether the caller must skip this step (non-finite values under
     *                             {@link NonFinitePolicy#SKIP}, or a spike guard); gradients are then
     *                             untouched
     * @param clippedCount         how many things were clipped: elements (value), tensors (per tensor),
     *                             groups (per group), units (AGC), or 1/0 for a global clip
     * @param nonFiniteCount       the number of NaN and infinite gradient elements met
     * @param firstNonFiniteTensor the name of the first tensor holding one, or {@code null}
     * @param firstNonFiniteIndex  the flat index of the first such element in it, or -1
     * @param tensorNorms          the norm of every tensor before clipping, by tensor number
     * @param largest              the tensors with the largest norms, largest first
     */
    public ClipReport {
        tensorNorms = tensorNorms.clone();
        largest = List.copyOf(largest);
    }

    /** @return a copy of the per-tensor norms before clipping */
    @Override
    public double[] tensorNorms() {
        return tensorNorms.clone();
    }

    /** @return whether the step met NaN or infinite gradient values */
    public boolean hasNonFinite() {
        return nonFiniteCount > 0;
    }

    /**
     * Returns a copy of this report with {@link #skipped()} set, for guards (spike skipping) that
     * decide after the clipper.
     *
     * @return the copy
     */
    public ClipReport asSkipped() {
        return new ClipReport(method, normType, normBefore, normBefore, 1.0, threshold, false, true, 0,
                nonFiniteCount, firstNonFiniteTensor, firstNonFiniteIndex, tensorNorms, largest);
    }

    /** Value equality; arrays are compared by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ClipReport r
                && method.equals(r.method)
                && Double.compare(normType, r.normType) == 0
                && Double.compare(normBefore, r.normBefore) == 0
                && Double.compare(normAfter, r.normAfter) == 0
                && Double.compare(coefficient, r.coefficient) == 0
                && Double.compare(threshold, r.threshold) == 0
                && clipped == r.clipped && skipped == r.skipped
                && clippedCount == r.clippedCount
                && nonFiniteCount == r.nonFiniteCount
                && java.util.Objects.equals(firstNonFiniteTensor, r.firstNonFiniteTensor)
                && firstNonFiniteIndex == r.firstNonFiniteIndex
                && Arrays.equals(tensorNorms, r.tensorNorms)
                && largest.equals(r.largest);
    }

    /** Consistent with {@link #equals(Object)}. */
    @Override
    public int hashCode() {
        return java.util.Objects.hash(method, normBefore, normAfter, coefficient, threshold, clipped, skipped,
                clippedCount, nonFiniteCount, Arrays.hashCode(tensorNorms));
    }

    /** A one-line summary for logs. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(method).append(": norm ").append(normBefore);
        if (skipped) {
            sb.append(" SKIPPED");
        } else if (clipped) {
            sb.append(" -> ").append(normAfter).append(" (coef ").append(coefficient).append(")");
        }
        if (!Double.isNaN(threshold)) {
            sb.append(", threshold ").append(threshold);
        }
        if (nonFiniteCount > 0) {
            sb.append(", ").append(nonFiniteCount).append(" non-finite, first in '")
                    .append(firstNonFiniteTensor).append("' at ").append(firstNonFiniteIndex);
        }
        if (!largest.isEmpty()) {
            sb.append(", largest: ").append(largest.get(0).name()).append('=').append(largest.get(0).norm());
        }
        return sb.toString();
    }
}
