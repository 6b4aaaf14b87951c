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
 *
 * <p>Adaptive thresholds need no tuning: {@link #autoClip()}, {@link #zClip()}, {@link #adaGC()};
 * {@link #spikeGuard(Clipper)} skips outlier steps around any of them; {@link #scheduled(Schedule)}
 * follows a schedule. To chain a clipper with an optimizer, see {@code dev.gradclip.optim.TrainingStep}.
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

    /**
     * AutoClip: global-norm clipping at the p-th percentile of the norms seen (Seetharaman et al.
     * 2020, arXiv:2007.14469). See {@link AutoClipper}.
     *
     * @param percentile p in [0, 100]; the paper uses 10
     * @return the clipper, over a window of the last 10,000 norms
     * @throws IllegalArgumentException if p is outside [0, 100]
     */
    public static AutoClipper autoClip(double percentile) {
        return new AutoClipper(percentile, AutoClipper.DEFAULT_WINDOW, 0.0, NonFinitePolicy.THROW);
    }

    /**
     * AutoClip at the paper's 10th percentile. See {@link AutoClipper}.
     *
     * @return the clipper
     */
    public static AutoClipper autoClip() {
        return autoClip(AutoClipper.DEFAULT_PERCENTILE);
    }

    /**
     * ZClip with the reference implementation's defaults (bluorion-com/ZClip, {@code zclip.py}): α =
     * 0.97, z_t = 2.5, 25 warm-up steps, adaptive scaling, and a cap of 1.0 on the norm that also
     * applies during warm-up (Kumar et al. 2025, arXiv:2504.02507). {@link ZClipper#withoutMaxNorm()}
     * removes the cap; see {@link ZClipper} for the rule and the other options.
     *
     * @return the clipper
     */
    public static ZClipper zClip() {
        return new ZClipper(ZClipper.DEFAULT_ALPHA, ZClipper.DEFAULT_Z_THRESHOLD, ZClipper.DEFAULT_WARMUP_STEPS,
                ZClipper.ClipOption.ADAPTIVE_SCALING, ZClipper.DEFAULT_MAX_NORM, false, false,
                NonFinitePolicy.THROW);
    }

    /**
     * AdaGC with the paper's defaults: T_start = 100, λ_abs = 1.0, λ_rel = 1.05, β = 0.98 (Wang et
     * al. 2025, arXiv:2502.11034). See {@link AdaGcClipper}.
     *
     * @return the clipper
     */
    public static AdaGcClipper adaGC() {
        return new AdaGcClipper(AdaGcClipper.DEFAULT_WARMUP_STEPS, AdaGcClipper.DEFAULT_LAMBDA_ABS,
                AdaGcClipper.DEFAULT_LAMBDA_REL, AdaGcClipper.DEFAULT_BETA, NonFinitePolicy.THROW);
    }

    /**
     * A spike guard around a clipper: skip the step when the norm exceeds 10 times the median of the
     * last 100 accepted norms (after 20 of them). See {@link SpikeGuard} for the z-score rule and the
     * other options. The guard shares the inner clipper's non-finite policy.
     *
     * @param inner the clipper that clips the steps the guard accepts (e.g. {@link #none()})
     * @return the guard
     */
    public static SpikeGuard spikeGuard(Clipper inner) {
        return new SpikeGuard(inner, SpikeGuard.DEFAULT_MEDIAN_FACTOR, Double.NaN, SpikeGuard.DEFAULT_WINDOW,
                SpikeGuard.DEFAULT_WARMUP, Long.MAX_VALUE);
    }

    /**
     * A spike guard with a chosen median factor. See {@link SpikeGuard}.
     *
     * @param inner        the clipper that clips the steps the guard accepts
     * @param medianFactor k: a norm above k times the median of the history is a spike
     * @return the guard
     * @throws IllegalArgumentException if k is not finite and positive
     */
    public static SpikeGuard spikeGuard(Clipper inner, double medianFactor) {
        return spikeGuard(inner).withMedianFactor(medianFactor);
    }

    /**
     * Global L2-norm clipping at a threshold that follows a schedule of the step, e.g.
     * {@code Schedule.constant(1.0).withLinearWarmup(100)}. See {@link ScheduledClipper}.
     *
     * @param threshold the threshold as a function of the step
     * @return the clipper
     */
    public static ScheduledClipper scheduled(Schedule threshold) {
        return new ScheduledClipper(threshold, 2.0, NonFinitePolicy.THROW);
    }

    /**
     * The clipper for gradients sharded over workers: each worker clips its {@link GradientShard} as
     * {@code inner} on one machine would clip the whole model, bit for bit, after exchanging per-tensor
     * norms ({@code 8·(5 + 2k)} bytes for a worker holding {@code k} tensors) through
     * {@code exchange}. The default, any clipper not made here, exchanges nothing. Data-parallel
     * training (every worker holding the whole all-reduced gradient) needs no exchange. See
     * {@link ShardedClipper} for the rule, non-finite handling and limits.
     *
     * @param inner    the clipper whose rule every worker runs, one of gradclip's; a spike guard goes
     *                 inside ({@code sharded(spikeGuard(c), exchange)})
     * @param exchange the all-gather between the workers
     * @return the sharded clipper, with the inner clipper's policy
     * @throws IllegalArgumentException if {@code inner} is sharded already or not one of gradclip's
     *                                  clippers
     */
    public static ShardedClipper sharded(Clipper inner, NormExchange exchange) {
        return new ShardedClipper(inner, exchange);
    }
}
