package dev.gradclip;

import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;

/**
 * ZClip: clips the global norm when it is a z-score outlier of its exponential moving statistics,
 * so spikes are cut while the threshold follows the slow drift of the norm, under a fixed cap.
 *
 * <p>Rule, with {@code n} the global L2 norm before clipping, {@code c} the cap ({@code maxNorm}),
 * {@code ε = 1e-6}, {@code α}, {@code z_t} and {@code W} warm-up steps:
 * <pre>
 *   warm-up (the first W steps): append n to a buffer; after the W-th: μ = mean(buffer),
 *       σ² = population variance(buffer); on each of these W steps, if a cap is set, scale
 *       g ← g · min(1, c/(n + ε))                   (PyTorch's clip_grad_norm_, as the reference)
 *   after warm-up:
 *   z = (n − μ)/(σ + ε)
 *   τ = none;  if z &gt; z_t:  τ = μ + z_t·σ/(z/z_t) = μ + z_t²σ/z   (ADAPTIVE_SCALING, the default)
 *                            τ = μ                                (MEAN)
 *   effective = min(τ if set else n, c if set)
 *   if n &gt; effective:  g ← g · effective/(n + ε)
 *   n' = τ if set else n                 τ or the raw norm feeds the statistics; the cap never does
 *   unless τ is set and skipStatisticsOnSpike:
 *       μ ← α·μ + (1 − α)·n';   σ² ← α·σ² + (1 − α)·(n' − μ)²      (with the updated μ)
 * </pre>
 * The buffer holds the raw norms, not the capped ones. Check value: a spike with {@code z = 10} is
 * clipped to {@code μ + 0.625σ} (when that is below the cap).
 *
 * <p>Defaults ({@link Clippers#zClip()}), those of the reference class {@code ZClip} in
 * {@code zclip/zclip.py} of bluorion-com/ZClip (its constructor's defaults; the cap on warm-up steps
 * is in the warm-up branch of its {@code step}): {@code α = }{@value #DEFAULT_ALPHA}, {@code z_t = }{@value #DEFAULT_Z_THRESHOLD},
 * {@code W = }{@value #DEFAULT_WARMUP_STEPS}, {@code max_grad_norm = }{@value #DEFAULT_MAX_NORM},
 * mode {@code zscore} with clip option {@code adaptive_scaling}, {@code clip_factor = 1.0},
 * {@code skip_update_on_spike = false}, {@code eps = }{@value #EPSILON}. So with the defaults every
 * step, warm-up included, ends with a norm of at most 1.0. {@link #withoutMaxNorm()} removes the cap
 * (the reference's {@code max_grad_norm=None}): warm-up steps are then left untouched and only
 * z-score outliers are clipped; {@link #withMaxNorm(double)} sets another.
 *
 * <p>Special cases: a zero norm is an ordinary norm (it enters the buffer or the statistics and is
 * never scaled). If every warm-up norm is equal, σ = 0 and any later norm above μ by more than
 * {@code z_t·ε} is an outlier clipped to μ, as in the reference; in particular after an all-zero
 * warm-up every gradient whose norm exceeds {@code z_t·ε = 2.5e-6} is scaled to 0, and the
 * statistics hardly move, since that clipped norm 0 is what feeds them (the reference does the same).
 * NaN and infinite norms reach the rule only under {@link NonFinitePolicy#PROPAGATE}; they are scaled
 * as the reference scales them (during warm-up {@code min(1, c/(n + ε))}: NaN gives NaN, ∞ gives 0,
 * and without a cap nothing; after warm-up ∞ is an outlier with {@code τ = μ} and gives 0, or skips
 * the step under {@link #withSkipStepOnSpike}, while NaN compares false everywhere and is left alone),
 * but unlike in the reference they never enter the buffer or the statistics.
 *
 * <p>Where gradclip differs from the reference: the non-finite handling above and the
 * {@link NonFinitePolicy} (the reference has none: a NaN norm silently poisons its statistics for
 * good); {@link #withSkipStepOnSpike}, which the reference lacks ({@code skipStatisticsOnSpike} is its
 * {@code skip_update_on_spike}, which skips the statistics update, not the optimizer step; see also
 * {@link Clippers#spikeGuard}); the norm is accumulated in double, where the reference measures in the
 * parameters' dtype; the reference's {@code percentile} mode and its {@code clip_factor} (a factor on
 * τ, 1.0 by default, which is what gradclip applies) are not offered.
 *
 * <p>The report's threshold is the norm above which this step would be clipped:
 * {@code min(μ + z_t·(σ + ε), c)} after warm-up, {@code c} (or NaN without a cap) during it; the
 * clipped norm is in {@code normAfter}. Statistics change only when the step is not skipped.
 *
 * <p>Reference: Kumar, Owen, Chowdhury, Güra, "ZClip: Adaptive Spike Mitigation for LLM
 * Pre-Training", arXiv:2504.02507 (code: github.com/bluorion-com/ZClip, {@code zclip/zclip.py}).
 */
public final class ZClipper extends AbstractClipper {

    /** How the threshold is set when the z-score exceeds {@code z_t}. */
    public enum ClipOption {
        /** {@code τ = μ + z_t·σ/(z/z_t)}: the larger the outlier, the harder the clip (the default). */
        ADAPTIVE_SCALING,
        /** {@code τ = μ}: clip every outlier to the mean. */
        MEAN
    }

    /** The paper's EMA factor. */
    public static final double DEFAULT_ALPHA = 0.97;
    /** The paper's z-score threshold. */
    public static final double DEFAULT_Z_THRESHOLD = 2.5;
    /** The paper's number of warm-up steps. */
    public static final int DEFAULT_WARMUP_STEPS = 25;
    /**
     * The reference code's cap on the norm ({@code max_grad_norm=1.0}), applied during warm-up as
     * well; remove it with {@link #withoutMaxNorm()}.
     */
    public static final double DEFAULT_MAX_NORM = 1.0;
    /** The official code's ε, in the z-score and in the clipping coefficient. */
    public static final double EPSILON = 1e-6;

    private static final String KIND = "zclip";
    private static final int STATE_VERSION = 1;

    private final double alpha;
    private final double zThreshold;
    private final int warmupSteps;
    private final ClipOption option;
    private final double maxNorm;
    private final boolean skipStatisticsOnSpike;
    private final boolean skipStepOnSpike;

    private double[] buffer;
    private int buffered;
    private boolean initialized;
    private double mean;
    private double variance;

    ZClipper(double alpha, double zThreshold, int warmupSteps, ClipOption option, double maxNorm,
            boolean skipStatisticsOnSpike, boolean skipStepOnSpike, NonFinitePolicy policy) {
        super(policy);
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        }
        this.alpha = alpha;
        this.zThreshold = Norms.checkThreshold("zThreshold", zThreshold);
        if (warmupSteps < 1) {
            throw new IllegalArgumentException("warmupSteps must be >= 1, got " + warmupSteps);
        }
        this.warmupSteps = warmupSteps;
        this.option = java.util.Objects.requireNonNull(option, "option");
        this.maxNorm = Double.isNaN(maxNorm) ? Double.NaN : Norms.checkThreshold("maxNorm", maxNorm);
        this.skipStatisticsOnSpike = skipStatisticsOnSpike;
        this.skipStepOnSpike = skipStepOnSpike;
        this.buffer = new double[warmupSteps];
    }

    /**
     * @param alpha the EMA factor, in (0, 1)
     * @return a clipper with the same settings, that α and fresh statistics
     * @throws IllegalArgumentException if out of range
     */
    public ZClipper withAlpha(double alpha) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * @param zThreshold z_t, finite and positive
     * @return a clipper with the same settings, that threshold and fresh statistics
     * @throws IllegalArgumentException if not finite and positive
     */
    public ZClipper withZThreshold(double zThreshold) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * @param warmupSteps how many norms initialise the statistics, ≥ 1
     * @return a clipper with the same settings, that warm-up and fresh statistics
     * @throws IllegalArgumentException if {@code warmupSteps < 1}
     */
    public ZClipper withWarmupSteps(int warmupSteps) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * @param option how an outlier's threshold is set
     * @return a clipper with the same settings, that option and fresh statistics
     */
    public ZClipper withClipOption(ClipOption option) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * Sets the fixed cap {@code c}: every step, warm-up included, ends with a norm of at most
     * {@code c} (during warm-up by PyTorch's {@code min(1, c/(n + ε))}, after it as the cap on the
     * adaptive threshold). The default is {@value #DEFAULT_MAX_NORM}, the reference's
     * {@code max_grad_norm}.
     *
     * @param maxNorm the cap, finite and positive
     * @return a clipper with the same settings, that cap and fresh statistics
     * @throws IllegalArgumentException if not finite and positive (use {@link #withoutMaxNorm()} for
     *                                  no cap)
     */
    public ZClipper withMaxNorm(double maxNorm) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, Norms.checkThreshold("maxNorm", maxNorm),
                skipStatisticsOnSpike, skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * Removes the cap (the reference's {@code max_grad_norm=None}): warm-up steps are left untouched
     * and only z-score outliers are clipped, to their adaptive threshold however large.
     *
     * @return a clipper with the same settings, no cap and fresh statistics
     */
    public ZClipper withoutMaxNorm() {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, Double.NaN, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
    }

    /** @return the cap {@code c} on the norm, or NaN when there is none */
    public double maxNorm() {
        return maxNorm;
    }

    /**
     * @param skip whether a spike's clipped norm is kept out of the statistics (the official
     *             {@code skip_update_on_spike}; false by default)
     * @return a clipper with the same settings, that choice and fresh statistics
     */
    public ZClipper withSkipStatisticsOnSpike(boolean skip) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skip,
                skipStepOnSpike, nonFinitePolicy());
    }

    /**
     * @param skip whether a detected spike ({@code z > z_t} after warm-up) skips the whole step
     *             instead of clipping it: the report says {@code skipped}, the gradients and the
     *             statistics are left untouched, and the caller must not apply the step (false by
     *             default; the official code has no such option)
     * @return a clipper with the same settings, that choice and fresh statistics
     */
    public ZClipper withSkipStepOnSpike(boolean skip) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike, skip,
                nonFinitePolicy());
    }

    @Override
    public ZClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike, skipStepOnSpike,
                policy);
    }

    /** @return whether the warm-up is over and the EMA statistics are in use */
    public boolean initialized() {
        return initialized;
    }

    /** @return the EMA mean μ of the norm (NaN during warm-up) */
    public double mean() {
        return initialized ? mean : Double.NaN;
    }

    /** @return the EMA variance σ² of the norm (NaN during warm-up) */
    public double variance() {
        return initialized ? variance : Double.NaN;
    }

    @Override
    public String method() {
        return "zclip";
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double n = Norms.combine(tensorNorms, 2.0);
        boolean capped = !Double.isNaN(maxNorm);
        if (!initialized) {
            if (Double.isFinite(n)) {
                buffer[buffered++] = n;
                if (buffered == warmupSteps) {
                    initialise();
                }
            }
            // the reference calls torch.nn.utils.clip_grad_norm_(max_grad_norm) on warm-up steps
            double coef = capped ? coefficient(n, maxNorm, EPSILON) : 1.0;
            scaleAll(g, coef);
            boolean clipped = coef != 1.0;
            return report(g, n, n * coef, coef, maxNorm, clipped, clipped ? 1 : 0, tensorNorms, nonFinite);
        }
        double std = Math.sqrt(variance);
        double z = (n - mean) / (std + EPSILON);
        double tau = Double.NaN;
        if (z > zThreshold) {
            tau = option == ClipOption.ADAPTIVE_SCALING ? mean + zThreshold * std / (z / zThreshold) : mean;
        }
        double threshold = boundary(capped);
        if (!Double.isNaN(tau) && skipStepOnSpike) {
            return new ClipReport(method(), 2.0, n, n, 1.0, threshold, false, true, 0, nonFinite.count(),
                    nonFinite.tensorName(), nonFinite.index(), tensorNorms, largest(g, tensorNorms, DEFAULT_TOP_K));
        }
        double effective = Double.isNaN(tau) ? n : tau;
        if (capped) {
            effective = Math.min(effective, maxNorm);
        }
        double coef = clipCoefficient(n, effective);
        scaleAll(g, coef);
        if (Double.isFinite(n) && (Double.isNaN(tau) || !skipStatisticsOnSpike)) {
            double fed = Double.isNaN(tau) ? n : tau;
            mean = alpha * mean + (1 - alpha) * fed;
            double d = fed - mean;
            variance = alpha * variance + (1 - alpha) * d * d;
        }
        boolean clipped = coef != 1.0;
        return report(g, n, n * coef, coef, threshold, clipped, clipped ? 1 : 0, tensorNorms, nonFinite);
    }

    private double boundary(boolean capped) {
        double b = mean + zThreshold * (Math.sqrt(variance) + EPSILON);
        return capped ? Math.min(b, maxNorm) : b;
    }

    /** The official rule: {@code effective/(n + ε)} when {@code n > effective}, else exactly 1. */
    private static double clipCoefficient(double n, double effective) {
        return n > effective ? effective / (n + EPSILON) : 1.0;
    }

    private void initialise() {
        double s = 0;
        for (int i = 0; i < buffered; i++) {
            s += buffer[i];
        }
        mean = s / buffered;
        double v = 0;
        for (int i = 0; i < buffered; i++) {
            double d = buffer[i] - mean;
            v += d * d;
        }
        variance = v / buffered;
        initialized = true;
        buffered = 0;
    }

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION)
                .writeInt(warmupSteps)
                .writeBoolean(initialized)
                .writeDouble(mean)
                .writeDouble(variance)
                .writeDoubles(java.util.Arrays.copyOf(buffer, buffered))
                .toByteArray();
    }

    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        int warmup = r.readInt();
        boolean init = r.readBoolean();
        double m = r.readDouble();
        double v = r.readDouble();
        double[] b = r.readDoubles();
        r.finish();
        if (warmup != warmupSteps || b == null || b.length >= warmupSteps || (init && b.length != 0)) {
            throw new IllegalArgumentException("zclip state has warm-up " + warmup + " with "
                    + (b == null ? 0 : b.length)
                    + " buffered norms; this clipper warms up over " + warmupSteps
                    + " steps; restore into a clipper with the same settings");
        }
        initialized = init;
        mean = m;
        variance = v;
        buffered = b.length;
        System.arraycopy(b, 0, buffer, 0, b.length);
    }

    @Override
    public String toString() {
        return "zclip(alpha=" + alpha + ", z=" + zThreshold + ", warmup=" + warmupSteps + ", " + option
                + ", maxNorm=" + (Double.isNaN(maxNorm) ? "none" : maxNorm)
                + (skipStatisticsOnSpike ? ", skipStatisticsOnSpike" : "")
                + (skipStepOnSpike ? ", skipStepOnSpike" : "") + ", " + nonFinitePolicy() + ")";
    }
}
