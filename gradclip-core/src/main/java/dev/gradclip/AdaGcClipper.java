package dev.gradclip;

import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;

/**
 * AdaGC: per-tensor adaptive clipping, each tensor held to a multiple of an exponential moving
 * average of its own clipped norm.
 *
 * <p>Rule at step {@code t} (counting from 1 the steps not skipped), for each tensor {@code i} with
 * norm {@code ‖g_i‖}, {@code T_start = 100}, {@code λ_abs = 1.0}, {@code λ_rel = 1.05},
 * {@code β = 0.98}:
 * <pre>
 *   t &lt; T_start:  h = min(1, λ_abs/‖g‖_global);  ĝ_i = h·g_i
 *                 γ_i = ‖ĝ_i‖ at t = 1, else min(γ_i, ‖ĝ_i‖)
 *   t ≥ T_start:  h_i = min(1, λ_rel·γ_i/‖g_i‖);  ĝ_i = h_i·g_i
 *                 γ_i ← β·γ_i + (1 − β)·‖ĝ_i‖
 * </pre>
 * {@code ‖ĝ_i‖} is taken as {@code h·‖g_i‖} (equal in exact arithmetic), so there is no second pass
 * over the gradients. A zero global norm gives {@code h = 1}.
 *
 * <p><b>Zero gradients</b> (where this class departs from the paper and from the reference port). A
 * tensor whose gradient is all zeros on a step (a layer or an embedding the batch did not reach)
 * says nothing about the scale of its gradients, so:
 * <ul>
 *   <li>on a step where {@code ‖g_i‖ = 0}, tensor {@code i} keeps its statistics: neither the
 *       warm-up minimum nor the moving average is updated (its zeros stay zeros);</li>
 *   <li>{@code γ_i} is set by the tensor's first non-zero norm, not by step 1: in the first phase
 *       {@code γ_i = ‖ĝ_i‖} then, {@code min(γ_i, ‖ĝ_i‖)} at later non-zero steps;</li>
 *   <li>a tensor whose norm was 0 on every step of the first phase has no {@code γ_i} when it ends
 *       ({@link #thresholds()} reports NaN for it). It is passed through untouched while its norm
 *       stays 0; its first non-zero norm is handled by the first phase's rule for that one step:
 *       it is scaled by that step's {@code h = min(1, λ_abs/‖g‖_global)} and {@code γ_i = h·‖g_i‖}.
 *       The relative rule applies from its next non-zero step. This is the paper's own
 *       initialisation (a norm clipped at {@code λ_abs}), applied when the tensor first has a
 *       norm, and it bounds that first step by {@code λ_abs} as the first phase does.</li>
 * </ul>
 * The paper's rule (above) sets {@code γ_i} at step 1 whatever the norm and takes every step into
 * the minimum and the average, so one all-zero step in the first phase sets {@code γ_i = 0} and the
 * tensor is zeroed on every step after it ({@code h_i = min(1, λ_rel·0/‖g_i‖) = 0}), forever; after
 * the first phase every all-zero step multiplies {@code γ_i} by {@code β}. The reference port
 * does the same, and with {@code γ_i = 0} a zero norm after warm-up gives it {@code 0/0}, a NaN that
 * reaches the update. The port skips a parameter whose {@code .grad} is {@code None} (PyTorch's "no
 * gradient") without touching its statistics; DJL and plain arrays hold zeros instead, and this
 * rule gives them the same treatment. With no all-zero tensor the results are the paper's, bit for
 * bit.
 *
 * <p>The report's coefficient is the smallest factor applied, {@code clippedCount} the number of
 * tensors scaled, and its threshold the global norm bound in force: {@code λ_abs} in the first
 * phase, {@code sqrt(Σ_i limit_i²)} after, where {@code limit_i = λ_rel·γ_i}, or for a tensor without
 * {@code γ_i} the norm it is allowed on this step ({@code h·‖g_i‖}, 0 when its norm is 0).
 * Statistics change only when the step is not skipped, and only with finite norms (under
 * {@code PROPAGATE} a non-finite step propagates and leaves them alone). The number of tensors is
 * fixed by the first step.
 *
 * <p>Reference: Wang et al., "AdaGC: Improving Training Stability for Large Language Model
 * Pretraining", arXiv:2502.11034 (reference port: kozistr/pytorch_optimizer {@code adagc.py}, which
 * adds 1e-8 to the global norm).
 */
public final class AdaGcClipper extends AbstractClipper {

    /** The paper's length of the absolute-threshold phase, T_start. */
    public static final int DEFAULT_WARMUP_STEPS = 100;
    /** The paper's absolute threshold λ_abs. */
    public static final double DEFAULT_LAMBDA_ABS = 1.0;
    /** The paper's relative threshold λ_rel. */
    public static final double DEFAULT_LAMBDA_REL = 1.05;
    /** The paper's EMA factor β. */
    public static final double DEFAULT_BETA = 0.98;

    private static final String KIND = "adagc";
    /**
     * Layout 2 holds NaN for a tensor without {@code γ_i}; layout 1 (before zero norms were left
     * out) held 0 for it, which is read as NaN: a 0 there could only come from zero norms.
     */
    private static final int STATE_VERSION = 2;
    private static final int OLDEST_STATE_VERSION = 1;

    private final int warmupSteps;
    private final double lambdaAbs;
    private final double lambdaRel;
    private final double beta;

    private long steps;
    private double[] gamma;

    AdaGcClipper(int warmupSteps, double lambdaAbs, double lambdaRel, double beta, NonFinitePolicy policy) {
        super(policy);
        if (warmupSteps < 1) {
            throw new IllegalArgumentException("warmupSteps must be >= 1, got " + warmupSteps);
        }
        this.warmupSteps = warmupSteps;
        this.lambdaAbs = Norms.checkThreshold("lambdaAbs", lambdaAbs);
        this.lambdaRel = Norms.checkThreshold("lambdaRel", lambdaRel);
        if (!(beta >= 0 && beta < 1)) {
            throw new IllegalArgumentException("beta must be in [0, 1), got " + beta);
        }
        this.beta = beta;
    }

    /**
     * @param warmupSteps T_start, the length of the absolute-threshold phase, ≥ 1
     * @return a clipper with the same settings, that T_start and fresh statistics
     * @throws IllegalArgumentException if {@code warmupSteps < 1}
     */
    public AdaGcClipper withWarmupSteps(int warmupSteps) {
        return new AdaGcClipper(warmupSteps, lambdaAbs, lambdaRel, beta, nonFinitePolicy());
    }

    /**
     * @param lambdaAbs λ_abs, the global norm bound of the first phase, finite and positive
     * @return a clipper with the same settings, that λ_abs and fresh statistics
     * @throws IllegalArgumentException if not finite and positive
     */
    public AdaGcClipper withLambdaAbs(double lambdaAbs) {
        return new AdaGcClipper(warmupSteps, lambdaAbs, lambdaRel, beta, nonFinitePolicy());
    }

    /**
     * @param lambdaRel λ_rel, the allowed ratio to a tensor's average norm, finite and positive
     * @return a clipper with the same settings, that λ_rel and fresh statistics
     * @throws IllegalArgumentException if not finite and positive
     */
    public AdaGcClipper withLambdaRel(double lambdaRel) {
        return new AdaGcClipper(warmupSteps, lambdaAbs, lambdaRel, beta, nonFinitePolicy());
    }

    /**
     * @param beta the EMA factor β, in [0, 1)
     * @return a clipper with the same settings, that β and fresh statistics
     * @throws IllegalArgumentException if out of range
     */
    public AdaGcClipper withBeta(double beta) {
        return new AdaGcClipper(warmupSteps, lambdaAbs, lambdaRel, beta, nonFinitePolicy());
    }

    @Override
    public AdaGcClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new AdaGcClipper(warmupSteps, lambdaAbs, lambdaRel, beta, policy);
    }

    /** @return the number of steps that updated the statistics */
    public long steps() {
        return steps;
    }

    /**
     * @return a copy of the per-tensor thresholds γ_i, NaN for a tensor that has had no non-zero norm
     *         yet, or an empty array before the first step
     */
    public double[] thresholds() {
        return gamma == null ? new double[0] : gamma.clone();
    }

    @Override
    public String method() {
        return "adagc";
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        int n = tensorNorms.length;
        if (gamma != null && gamma.length != n) {
            throw new IllegalArgumentException("adagc keeps thresholds for " + gamma.length
                    + " tensors but the gradients have " + n + "; use one clipper per model");
        }
        double global = Norms.combine(tensorNorms, 2.0);
        boolean finite = Double.isFinite(global);
        long t = steps + 1;
        // the first phase's factor: every tensor's in the first phase, a new tensor's after it
        double h = Double.isNaN(global) ? Double.NaN : Math.min(1.0, lambdaAbs / global);
        double[] factors = new double[n];
        double threshold;
        if (t < warmupSteps || gamma == null) {
            java.util.Arrays.fill(factors, h);
            threshold = lambdaAbs;
            if (finite) {
                if (gamma == null) {
                    gamma = new double[n];
                    java.util.Arrays.fill(gamma, Double.NaN);
                }
                for (int i = 0; i < n; i++) {
                    observe(i, h * tensorNorms[i], true);
                }
            }
        } else {
            double[] limits = new double[n];
            boolean[] first = new boolean[n];
            for (int i = 0; i < n; i++) {
                double ni = tensorNorms[i];
                if (ni == 0) {
                    factors[i] = 1.0; // nothing to scale, and no statistics to take
                    limits[i] = Double.isNaN(gamma[i]) ? 0.0 : lambdaRel * gamma[i];
                } else if (Double.isNaN(gamma[i])) {
                    // no γ_i yet: the first phase's rule for this one step
                    first[i] = true;
                    factors[i] = h;
                    limits[i] = Double.isFinite(h * ni) ? h * ni : 0.0; // h = 0 and ‖g_i‖ = ∞: 0·∞
                } else {
                    limits[i] = lambdaRel * gamma[i];
                    factors[i] = Double.isNaN(ni) ? Double.NaN : Math.min(1.0, limits[i] / ni);
                }
            }
            threshold = Norms.combine(limits, 2.0);
            if (finite) {
                for (int i = 0; i < n; i++) {
                    observe(i, factors[i] * tensorNorms[i], first[i]);
                }
            }
        }
        if (finite) {
            steps = t;
        }
        double[] after = new double[n];
        double minCoef = 1.0;
        long clipped = 0;
        for (int i = 0; i < n; i++) {
            if (factors[i] != 1.0) {
                g.scale(i, factors[i]);
                clipped++;
            }
            minCoef = Math.min(minCoef, factors[i]);
            after[i] = tensorNorms[i] * factors[i];
        }
        return report(g, global, Norms.combine(after, 2.0), minCoef, threshold, clipped > 0, clipped, tensorNorms,
                nonFinite);
    }

    /**
     * Takes a tensor's clipped norm into its statistics: the first non-zero one sets {@code γ_i}, later
     * ones go into the minimum (first phase) or the moving average; a zero one is left out (it would
     * set {@code γ_i} to 0 and zero the tensor for good). It is 0 exactly when the tensor's norm is
     * 0, short of an underflow of {@code h·‖g_i‖} with absurd settings, which is left out too.
     *
     * @param i           tensor number
     * @param clippedNorm {@code ‖ĝ_i‖}, finite
     * @param firstPhase  whether the first phase's rule (the minimum) applies to this tensor
     */
    private void observe(int i, double clippedNorm, boolean firstPhase) {
        if (!(clippedNorm > 0)) {
            return;
        }
        if (Double.isNaN(gamma[i])) {
            gamma[i] = clippedNorm;
        } else if (firstPhase) {
            gamma[i] = Math.min(gamma[i], clippedNorm);
        } else {
            gamma[i] = beta * gamma[i] + (1 - beta) * clippedNorm;
        }
    }

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION).writeLong(steps).writeDoubles(gamma).toByteArray();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads the current layout and layout 1, written before zero norms were left out of the
     * statistics; a {@code γ_i} of 0 in layout 1 (a tensor that had a zero norm in the first phase,
     * which that version zeroed for good) is restored as no {@code γ_i}: the tensor's next non-zero
     * norm sets it.
     */
    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, OLDEST_STATE_VERSION, STATE_VERSION);
        long s = r.readLong();
        double[] gm = r.readDoubles();
        r.finish();
        if (s < 0 || (gm == null) != (s == 0)) {
            throw new IllegalArgumentException("adagc state is corrupt: " + s + " steps with "
                    + (gm == null ? "no" : gm.length) + " thresholds");
        }
        if (gm != null && r.version() == 1) {
            for (int i = 0; i < gm.length; i++) {
                if (gm[i] == 0) {
                    gm[i] = Double.NaN;
                }
            }
        }
        steps = s;
        gamma = gm;
    }

    @Override
    public String toString() {
        return "adagc(T_start=" + warmupSteps + ", lambdaAbs=" + lambdaAbs + ", lambdaRel=" + lambdaRel + ", beta="
                + beta + ", " + nonFinitePolicy() + ")";
    }
}
