package dev.gradclip;

/**
 * Factories for every clipper, one per technique, as Optax has one per transformation. Every clipper
 * is immutable in its settings, validates them here (a threshold that is not finite and positive is
 * an {@link IllegalArgumentException} naming the argument and value), and starts with
 * {@link NonFinitePolicy#THROW}; change it with {@link Clipper#withNonFinitePolicy}.
 *
 * <pre>{@code
 * Clipper clipper = Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP);
 * ClipReport report = clipper.clip(gradients);
 * if (!report.skipped()) optimizer.step();
 * }</pre>
 */
public final class Clippers {

    private Clippers() {
    }

    /**
     * Element-wise clipping to {@code [-c, c]}. See {@link ValueClipper}.
     *
     * @param clipValue c, finite and positive
     * @return the clipper
     * @throws IllegalArgumentException if {@code clipValue} is not finite and positive
     */
    public static ValueClipper value(double clipValue) {
        return new ValueClipper(clipValue, NonFinitePolicy.THROW);
    }

    /**
     * Per-tensor L2-norm clipping (Keras {@code clipnorm}, TF {@code clip_by_norm}, DL4J
     * {@code ClipL2PerParamType}). See {@link NormClipper}.
     *
     * @param maxNorm c, finite and positive
     * @return the clipper
     * @throws IllegalArgumentException if {@code maxNorm} is not finite and positive
     */
    public static NormClipper norm(double maxNorm) {
        return new NormClipper(maxNorm, 2.0, NormScope.TENSOR, 0.0, false, NonFinitePolicy.THROW);
    }

    /**
     * Global-norm clipping (Pascanu et al. 2013, arXiv:1211.5063). See {@link NormClipper}.
     *
     * @param maxNorm c, finite and positive
     * @return the clipper (L2; use {@link NormClipper#withNormType} for other p)
     * @throws IllegalArgumentException if {@code maxNorm} is not finite and positive
     */
    public static NormClipper globalNorm(double maxNorm) {
        return new NormClipper(maxNorm, 2.0, NormScope.GLOBAL, 0.0, false, NonFinitePolicy.THROW);
    }

    /**
     * Per-group (layer) L2-norm clipping, DL4J's {@code ClipL2PerLayer}. See {@link NormClipper}.
     *
     * @param maxNorm c, finite and positive
     * @return the clipper
     * @throws IllegalArgumentException if {@code maxNorm} is not finite and positive
     */
    public static NormClipper groupNorm(double maxNorm) {
        return new NormClipper(maxNorm, 2.0, NormScope.GROUP, 0.0, false, NonFinitePolicy.THROW);
    }

    /**
     * Norm clipping over a chosen scope.
     *
     * @param maxNorm c, finite and positive
     * @param scope   global, per group or per tensor
     * @return the clipper
     * @throws IllegalArgumentException if {@code maxNorm} is not finite and positive
     */
    public static NormClipper norm(double maxNorm, NormScope scope) {
        return new NormClipper(maxNorm, 2.0, scope, 0.0, false, NonFinitePolicy.THROW);
    }

    /**
     * Renormalization: every scope divided by its L2 norm, {@code g ← g/‖g‖} (zero counts as 1e-5),
     * DL4J's {@code RenormalizeL2PerLayer} ({@link NormScope#GROUP}) and
     * {@code RenormalizeL2PerParamType} ({@link NormScope#TENSOR}).
     *
     * @param scope over which the norm is taken
     * @return the clipper
     */
    public static NormClipper renormalize(NormScope scope) {
        return new NormClipper(Double.NaN, 2.0, scope, 0.0, true, NonFinitePolicy.THROW);
    }

    /**
     * Adaptive gradient clipping, unit-wise relative to the weights (Brock et al. 2021,
     * arXiv:2102.06171). See {@link AgcClipper}.
     *
     * @param lambda λ, finite and positive (0.01 in the paper at batch 4096)
     * @return the clipper, with ε = 1e-3 and no exclusions
     * @throws IllegalArgumentException if {@code lambda} is not finite and positive
     */
    public static AgcClipper agc(double lambda) {
        return new AgcClipper(lambda, AgcClipper.DEFAULT_EPSILON, name -> false, NonFinitePolicy.THROW);
    }

    /**
     * No clipping: the norms are measured and reported and the {@link NonFinitePolicy} applies, but
     * the gradients are never changed (the baseline of a comparison).
     *
     * @return the clipper
     */
    public static Clipper none() {
        return new NoClipping(NonFinitePolicy.THROW);
    }
}
