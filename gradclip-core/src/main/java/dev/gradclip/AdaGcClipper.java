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
 * over the gradients. A zero global norm gives {@code h = 1}, and a zero tensor is left as it is.
 * A tensor whose {@code γ_i} became 0 during the first phase (its gradient was always 0) is zeroed
 * afterwards, as in the reference.
 *
 * <p>The report's coefficient is the smallest factor applied, {@code clippedCount} the number of
 * tensors scaled, and its threshold the global norm bound in force: {@code λ_abs} in the first
 * phase, {@code sqrt(Σ_i (λ_rel·γ_i)²)} after. Statistics change only when the step is not skipped,
 * and only with finite norms (under {@code PROPAGATE} a non-finite step propagates and leaves them
 * alone). The number of tensors is fixed by the first step.
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
    private static final int STATE_VERSION = 1;

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

    /** @return a copy of the per-tensor thresholds γ_i, or an empty array before the first step */
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
        double[] factors = new double[n];
        double threshold;
        if (t < warmupSteps || gamma == null) {
            double h = Double.isNaN(global) ? Double.NaN : Math.min(1.0, lambdaAbs / global);
            java.util.Arrays.fill(factors, h);
            threshold = lambdaAbs;
            if (finite) {
                if (gamma == null) {
                    gamma = new double[n];
                }
                for (int i = 0; i < n; i++) {
                    double clippedNorm = h * tensorNorms[i];
                    gamma[i] = t == 1 ? clippedNorm : Math.min(gamma[i], clippedNorm);
                }
            }
        } else {
            double[] limits = new double[n];
            for (int i = 0; i < n; i++) {
                limits[i] = lambdaRel * gamma[i];
                double ni = tensorNorms[i];
                factors[i] = Double.isNaN(ni) ? Double.NaN : ni == 0 ? 1.0 : Math.min(1.0, limits[i] / ni);
            }
            threshold = Norms.combine(limits, 2.0);
            if (finite) {
                for (int i = 0; i < n; i++) {
                    gamma[i] = beta * gamma[i] + (1 - beta) * factors[i] * tensorNorms[i];
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

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION).writeLong(steps).writeDoubles(gamma).toByteArray();
    }

    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        long s = r.readLong();
        double[] gm = r.readDoubles();
        r.finish();
        if (s < 0 || (gm == null) != (s == 0)) {
            throw new IllegalArgumentException("adagc state is corrupt: " + s + " steps with "
                    + (gm == null ? "no" : gm.length) + " thresholds");
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
