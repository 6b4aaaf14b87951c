package dev.gradclip;

import dev.gradclip.internal.Norms;

/**
 * The plain-array facade: one static call per common method on {@code float[][]} gradients, for
 * code that has no use for names, shapes or reports. The signatures are stable.
 *
 * <p>Every method clips in place, treats each array as one tensor named {@code grads[i]}, uses the
 * SIMD kernels when {@code jdk.incubator.vector} is readable, and throws a
 * {@link NonFiniteGradientException} (an {@link ArithmeticException}) naming the tensor and element
 * when a gradient holds NaN or an infinity, leaving every array untouched. For other policies,
 * reports and the other methods use {@link Clippers} on a {@link GradientSet}.
 */
public final class GradClip {

    private GradClip() {
    }

    /**
     * Clips by global L2 norm (Pascanu et al. 2013, arXiv:1211.5063): with
     * {@code n = sqrt(Σ_t Σ_i g_ti²)}, if {@code n > maxNorm} every element is multiplied by
     * {@code maxNorm/n}; otherwise nothing is written.
     *
     * @param grads   the gradient arrays, clipped in place
     * @param maxNorm the threshold, finite and positive
     * @return the global norm before clipping (0 for no or empty arrays)
     * @throws IllegalArgumentException    if {@code maxNorm} is not finite and positive
     * @throws NonFiniteGradientException if a gradient holds NaN or an infinity
     */
    public static double clipByGlobalNorm(float[][] grads, double maxNorm) {
        return clipByGlobalNorm(grads, maxNorm, 2.0);
    }

    /**
     * Clips by global p-norm: {@code n = (Σ_t Σ_i |g_ti|^p)^(1/p)}, or {@code max |g_ti|} for
     * {@code normType = ∞}; if {@code n > maxNorm} every element is multiplied by {@code maxNorm/n}.
     *
     * @param grads    the gradient arrays, clipped in place
     * @param maxNorm  the threshold, finite and positive
     * @param normType p ≥ 1, or {@link Double#POSITIVE_INFINITY}
     * @return the global norm before clipping
     * @throws IllegalArgumentException    if {@code maxNorm} is not finite and positive or
     *                                     {@code normType < 1}
     * @throws NonFiniteGradientException if a gradient holds NaN or an infinity
     */
    public static double clipByGlobalNorm(float[][] grads, double maxNorm, double normType) {
        NormClipper clipper = Clippers.globalNorm(maxNorm).withNormType(normType);
        return clipper.clip(GradientSet.of(grads)).normBefore();
    }

    /**
     * Clips each array separately by its L2 norm: if {@code ‖g_t‖ > maxNorm},
     * {@code g_t ← g_t · maxNorm/‖g_t‖}.
     *
     * @param grads   the gradient arrays, clipped in place
     * @param maxNorm the threshold, finite and positive
     * @return the norm of each array before clipping
     * @throws IllegalArgumentException    if {@code maxNorm} is not finite and positive
     * @throws NonFiniteGradientException if a gradient holds NaN or an infinity
     */
    public static double[] clipByNorm(float[][] grads, double maxNorm) {
        return Clippers.norm(maxNorm).clip(GradientSet.of(grads)).tensorNorms();
    }

    /**
     * Clamps every element to {@code [-clipValue, clipValue]}, keeping its sign.
     *
     * @param grads     the gradient arrays, clipped in place
     * @param clipValue the bound, finite and positive
     * @return the number of elements changed
     * @throws IllegalArgumentException    if {@code clipValue} is not finite and positive
     * @throws NonFiniteGradientException if a gradient holds NaN or an infinity
     */
    public static long clipByValue(float[][] grads, double clipValue) {
        return Clippers.value(clipValue).clip(GradientSet.of(grads)).clippedCount();
    }

    /**
     * Measures the global p-norm without changing anything: {@code (Σ_t Σ_i |g_ti|^p)^(1/p)}, or the
     * largest magnitude for {@code normType = ∞}. Accumulated in double, so finite input never
     * overflows; empty input has norm 0.
     *
     * @param grads    the gradient arrays
     * @param normType p ≥ 1, or {@link Double#POSITIVE_INFINITY}
     * @return the norm
     * @throws IllegalArgumentException    if {@code normType < 1}
     * @throws NonFiniteGradientException if a gradient holds NaN or an infinity
     */
    public static double globalNorm(float[][] grads, double normType) {
        Norms.checkNormType("normType", normType);
        GradientSet set = GradientSet.of(grads);
        double[] norms = new double[set.tensorCount()];
        set.norms(normType, norms);
        AbstractClipper.requireFinite(set, norms);
        return Norms.combine(norms, normType);
    }
}
