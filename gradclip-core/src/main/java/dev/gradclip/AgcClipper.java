package dev.gradclip;

import dev.gradclip.internal.Norms;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Adaptive gradient clipping (AGC): clips each unit's gradient relative to the norm of its weights.
 *
 * <p>For each unit {@code i} (one slice along the first axis: an output row of a {@code [out, in]}
 * weight, a filter of a {@code [out, in, kh, kw]} convolution; vectors and scalars are one unit) of a
 * parameter {@code W} with gradient {@code G}:
 * <pre>
 *   wn = max(‖W_i‖, ε)      gn = ‖G_i‖      limit = λ · wn
 *   if gn &gt; limit:  G_i ← G_i · limit / max(gn, 1e-6)
 * </pre>
 * with {@code ε = 1e-3} by default. A unit whose norm exceeds its limit by at most 1e-6 relative
 * is left untouched, as in {@link NormClipper}, so that clipping twice equals clipping once. The paper uses {@code λ = 0.01} at batch size 4096 (smaller
 * batches tolerate larger λ) and excludes the final classifier layer; exclusions here are per tensor
 * name. Apply it to the raw gradient, before weight decay and momentum.
 *
 * <p>Needs the parameter values of every tensor it clips: a tensor without them (and not excluded)
 * is an {@link IllegalStateException} raised before anything is written. The report's coefficient
 * is the smallest factor applied, {@code clippedCount} the number of units clipped, the threshold
 * is λ, and the norms are global L2 norms. Under {@code PROPAGATE} a unit with a NaN norm is left as
 * it is.
 *
 * <p>Reference: Brock, De, Smith, Simonyan, "High-Performance Large-Scale Image Recognition Without
 * Normalization", arXiv:2102.06171.
 */
public final class AgcClipper extends AbstractClipper {

    /** The paper's floor on the weight norm, so zero-initialised weights can still move. */
    public static final double DEFAULT_EPSILON = 1e-3;
    /** The floor on the gradient norm in the division. */
    public static final double GRADIENT_NORM_FLOOR = 1e-6;

    private final double lambda;
    private final double epsilon;
    private final Predicate<String> excluded;

    AgcClipper(double lambda, double epsilon, Predicate<String> excluded, NonFinitePolicy policy) {
        super(policy);
        this.lambda = Norms.checkThreshold("lambda", lambda);
        this.epsilon = Norms.checkThreshold("epsilon", epsilon);
        this.excluded = Objects.requireNonNull(excluded, "excluded");
    }

    /**
     * @param epsilon the floor on the weight norm (default 1e-3)
     * @return a clipper with the same settings and that floor
     * @throws IllegalArgumentException if not finite and positive
     */
    public AgcClipper withEpsilon(double epsilon) {
        return new AgcClipper(lambda, epsilon, excluded, nonFinitePolicy());
    }

    /**
     * @param names names of tensors to leave unclipped (the paper excludes the final layer)
     * @return a clipper with the same settings that also excludes these tensors
     */
    public AgcClipper excluding(String... names) {
        Set<String> set = Set.of(names);
        return excluding(set::contains);
    }

    /**
     * @param predicate tensors whose name matches are left unclipped
     * @return a clipper with the same settings that also excludes these tensors
     */
    public AgcClipper excluding(Predicate<String> predicate) {
        return new AgcClipper(lambda, epsilon, excluded.or(predicate), nonFinitePolicy());
    }

    @Override
    public AgcClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new AgcClipper(lambda, epsilon, excluded, policy);
    }

    /** @return λ */
    public double lambda() {
        return lambda;
    }

    @Override
    public String method() {
        return "agc";
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        int n = g.tensorCount();
        for (int t = 0; t < n; t++) {
            if (!excluded.test(g.name(t)) && !g.hasParameter(t)) {
                throw new IllegalStateException("AGC needs the parameter values of tensor '" + g.name(t)
                        + "'; pass them to the gradient set, or exclude the tensor");
            }
        }
        double before = Norms.combine(tensorNorms, 2.0);
        double[] after = tensorNorms.clone();
        double minCoef = 1.0;
        long clippedUnits = 0;
        for (int t = 0; t < n; t++) {
            if (excluded.test(g.name(t))) {
                continue;
            }
            int units = g.unitCount(t);
            double[] gn = new double[units];
            double[] wn = new double[units];
            g.unitNorms(t, false, gn);
            g.unitNorms(t, true, wn);
            double[] factors = new double[units];
            double sumSq = 0;
            long clippedHere = 0;
            for (int u = 0; u < units; u++) {
                double limit = lambda * Math.max(wn[u], epsilon);
                // the same tolerance as the norm rules, so AGC twice equals AGC once, bit for bit
                double f = gn[u] > limit * (1 + THRESHOLD_TOLERANCE) ? limit / Math.max(gn[u], GRADIENT_NORM_FLOOR)
                        : 1.0;
                factors[u] = f;
                if (f != 1.0) {
                    clippedHere++;
                    minCoef = Math.min(minCoef, f);
                }
                double un = gn[u] * f;
                sumSq += un * un;
            }
            if (clippedHere > 0) {
                g.scaleUnits(t, factors);
                clippedUnits += clippedHere;
                after[t] = Math.sqrt(sumSq);
            }
        }
        return report(g, before, Norms.combine(after, 2.0), minCoef, lambda, clippedUnits > 0, clippedUnits,
                tensorNorms, nonFinite);
    }

    @Override
    public String toString() {
        return "agc(lambda=" + lambda + ", epsilon=" + epsilon + ", " + nonFinitePolicy() + ")";
    }
}
