package dev.gradclip;

import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;

/**
 * ZClip: clips the global norm when it is a z-score outlier of its exponential moving statistics,
 * so spikes are cut while the threshold follows the slow drift of the norm.
 *
 * <p>Rule, with {@code n} the global L2 norm before clipping, {@code α = 0.97}, {@code z_t = 2.5},
 * 25 warm-up steps and {@code ε = 1e-6} (the official {@code zclip.py}, mode {@code zscore}):
 * <pre>
 *   warm-up (the first 25 steps): collect n; clip at maxNorm if one is set;
 *       after the 25th: μ = mean(buffer), σ² = population variance(buffer)
 *   z = (n − μ)/(σ + ε)
 *   τ = none;  if z &gt; z_t:  τ = μ + z_t·σ/(z/z_t)       (adaptive_scaling, the default: μ + z_t²σ/z)
 *                            τ = μ                      (mean)
 *   effective = min(τ if set else n, maxNorm if set)
 *   if n &gt; effective:  g ← g · effective/(n + ε)
 *   n' = τ if set else n                                   the clipped norm feeds the statistics
 *   unless τ is set and skipStatisticsOnSpike:
 *       μ ← α·μ + (1 − α)·n';   σ² ← α·σ² + (1 − α)·(n' − μ)²     (with the updated μ)
 * </pre>
 * Check value: a spike with {@code z = 10} is clipped to {@code μ + 0.625σ}. {@code maxNorm} is
 * optional here (the official class defaults to 1.0); {@code skipStatisticsOnSpike} is the official
 * {@code skip_update_on_spike}, which skips the statistics update, not the optimizer step (use
 * {@link #withSkipStepOnSpike} or {@link Clippers#spikeGuard} for that).
 *
 * <p>The report's threshold is the norm above which this step would be clipped:
 * {@code min(μ + z_t·(σ + ε), maxNorm)} after warm-up, {@code maxNorm} (or NaN) during it; the
 * clipped norm is in {@code normAfter}. Statistics change only when the step is not skipped, and only
 * with finite norms (under {@code PROPAGATE} a non-finite norm leaves them alone and propagates).
 *
 * <p>Reference: Kumar, Owen, Chowdhury, Güra, "ZClip: Adaptive Spike Mitigation for LLM
 * Pre-Training", arXiv:2504.02507 (code: bluorion-com/ZClip).
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
     * @param maxNorm a fixed cap on the norm, also applied during warm-up, finite and positive; NaN
     *                for none (the default)
     * @return a clipper with the same settings, that cap and fresh statistics
     * @throws IllegalArgumentException if not NaN and not finite and positive
     */
    public ZClipper withMaxNorm(double maxNorm) {
        return new ZClipper(alpha, zThreshold, warmupSteps, option, maxNorm, skipStatisticsOnSpike,
                skipStepOnSpike, nonFinitePolicy());
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
        if (!Double.isFinite(n) || !initialized) {
            if (Double.isFinite(n)) {
                buffer[buffered++] = n;
                if (buffered == warmupSteps) {
                    initialise();
                }
            }
            double coef = Double.isNaN(n) ? Double.NaN : capped ? clipCoefficient(n, maxNorm) : 1.0;
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
        if (Double.isNaN(tau) || !skipStatisticsOnSpike) {
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
                + (Double.isNaN(maxNorm) ? "" : ", maxNorm=" + maxNorm)
 + (skipStatisticsOnSpike ? ", skipStatisticsOnSpike" : "")
                + (skipStepOnSpike ? ", skipStepOnSpike" : "") + ", " + nonFinitePolicy() + ")";
    }
}
