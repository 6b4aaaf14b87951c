package dev.gradclip;

import dev.gradclip.internal.Norms;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Clips by norm: the gradient of each {@link NormScope scope} (all tensors, a group, a tensor) is
 * rescaled when its p-norm exceeds the threshold {@code c}.
 *
 * <p>Rule, for a scope with tensors {@code t} and norm {@code n = (Σ_t ‖t‖_p^p)^(1/p)}
 * ({@code n = max_t max|t|} for {@code p = ∞}):
 * <pre>
 *   epsilon = 0 (default):  if n &gt; c·(1 + 1e-6):  t ← t · c/n     else nothing is written
 *   epsilon &gt; 0:            coef = min(1, c/(n + epsilon));  t ← t · coef  (PyTorch, epsilon = 1e-6)
 * </pre>
 * With the default the clipped norm equals {@code c} within 1e-6 relative, and a gradient at or
 * below the threshold is left bit-for-bit untouched with no write pass. A norm above {@code c} by
 * at most 1e-6 relative already meets that guarantee and is left untouched too, so that clipping
 * twice equals clipping once, bit for bit (a clipped gradient measures a few 1e-7 above {@code c}
 * after float rounding). With
 * {@link #withEpsilon(double) epsilon 1e-6} the result reproduces PyTorch's {@code clip_grad_norm_}
 * exactly (a clipped norm ends slightly below {@code c}).
 *
 * <p>In {@linkplain #renormalizing renormalize} mode (DL4J's {@code RenormalizeL2PerLayer} and
 * {@code RenormalizeL2PerParamType}) there is no threshold: every scope is divided by its norm,
 * {@code t ← t/n}, a zero norm counting as 1e-5.
 *
 * <p>Special cases: an empty scope has norm 0 and is not changed. Non-finite values follow the
 * {@link NonFinitePolicy}; under {@code PROPAGATE} a NaN norm gives a NaN coefficient and an infinite
 * norm a coefficient of 0, as in PyTorch.
 *
 * <p>The report's coefficient is the smallest of the scopes' coefficients (1 for a scope left
 * as it is, and for no scopes at all); when renormalizing it is the smallest {@code 1/n}, which may
 * exceed 1. Its {@code clippedCount} counts the scopes clipped.
 *
 * <p>Coefficients outside the float range are applied exactly (see {@link Gradients}): renormalizing
 * {@code [1.4e-45, 0, 0]} multiplies by {@code 1/1.4e-45 = 7.1e44}, more than the largest float,
 * and gives {@code [1, 0, 0]}.
 *
 * <p>Reference: Pascanu, Mikolov, Bengio, "On the difficulty of training recurrent neural networks",
 * ICML 2013, arXiv:1211.5063.
 */
public final class NormClipper extends AbstractClipper {

    /** PyTorch's epsilon in {@code clip_grad_norm_}: {@code coef = c/(n + 1e-6)}. */
    public static final double PYTORCH_EPSILON = 1e-6;
    /** DL4J's stand-in for a zero norm when renormalizing. */
    public static final double RENORMALIZE_ZERO_NORM = 1e-5;

    private final double threshold;
    private final double p;
    private final NormScope scope;
    private final double epsilon;
    private final boolean renormalize;

    NormClipper(double threshold, double p, NormScope scope, double epsilon, boolean renormalize,
            NonFinitePolicy policy) {
        super(policy);
        this.threshold = renormalize ? Double.NaN : Norms.checkThreshold("maxNorm", threshold);
        this.p = Norms.checkNormType("normType", p);
        this.scope = java.util.Objects.requireNonNull(scope, "scope");
        if (!(epsilon >= 0.0) || epsilon == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("epsilon must be finite and >= 0, got " + epsilon);
        }
        this.epsilon = epsilon;
        this.renormalize = renormalize;
    }

    /**
     * @param epsilon the epsilon added to the norm in the coefficient; 0 (the default) for the exact
     *                rule, {@link #PYTORCH_EPSILON} to reproduce PyTorch
     * @return a clipper with the same settings and that epsilon
     * @throws IllegalArgumentException if epsilon is negative or not finite
     */
    public NormClipper withEpsilon(double epsilon) {
        return new NormClipper(threshold, p, scope, epsilon, renormalize, nonFinitePolicy());
    }

    /**
     * @param normType the p of the norm: ≥ 1, or {@link Double#POSITIVE_INFINITY} for the max norm
     * @return a clipper with the same settings and that norm type
     * @throws IllegalArgumentException if {@code normType < 1} or NaN
     */
    public NormClipper withNormType(double normType) {
        return new NormClipper(threshold, normType, scope, epsilon, renormalize, nonFinitePolicy());
    }

    @Override
    public NormClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new NormClipper(threshold, p, scope, epsilon, renormalize, policy);
    }

    /** @return the threshold c (NaN when renormalizing) */
    public double threshold() {
        return threshold;
    }

    /** @return the scope */
    public NormScope scope() {
        return scope;
    }

    /** @return whether this clipper divides by the norm instead of clipping at a threshold */
    public boolean renormalizing() {
        return renormalize;
    }

    @Override
    public String method() {
        String base = switch (scope) {
            case GLOBAL -> "global-norm";
            case GROUP -> "group-norm";
            case TENSOR -> "norm";
        };
        return renormalize ? "renormalize-" + base : base;
    }

    @Override
    protected double normType() {
        return p;
    }

    private double coefficientFor(double norm) {
        if (renormalize) {
            return Double.isNaN(norm) ? Double.NaN : 1.0 / (norm == 0 ? RENORMALIZE_ZERO_NORM : norm);
        }
        return coefficient(norm, threshold, epsilon);
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double before = Norms.combine(tensorNorms, p);
        int n = g.tensorCount();
        switch (scope) {
            case GLOBAL: {
                return scaleAllAndReport(g, before, coefficientFor(before), threshold, tensorNorms, nonFinite);
            }
            case TENSOR: {
                double[] after = new double[n];
                double minCoef = Double.POSITIVE_INFINITY;
                long clipped = 0;
                for (int t = 0; t < n; t++) {
                    double coef = coefficientFor(tensorNorms[t]);
                    if (coef != 1.0) {
                        g.scale(t, coef);
                        clipped++;
                    }
                    minCoef = minOrNaN(minCoef, coef);
                    after[t] = tensorNorms[t] * coef;
                }
                return report(g, before, Norms.combine(after, p), noScopesIsOne(minCoef), threshold, clipped > 0,
                        clipped, tensorNorms, nonFinite);
            }
            case GROUP:
            default: {
                Map<String, int[]> groups = groups(g);
                double[] after = new double[n];
                double minCoef = Double.POSITIVE_INFINITY;
                long clipped = 0;
                for (int[] members : groups.values()) {
                    double[] memberNorms = new double[members.length];
                    for (int i = 0; i < members.length; i++) {
                        memberNorms[i] = tensorNorms[members[i]];
                    }
                    double coef = coefficientFor(Norms.combine(memberNorms, p));
                    if (coef != 1.0) {
                        for (int t : members) {
                            g.scale(t, coef);
                        }
                        clipped++;
                    }
                    minCoef = minOrNaN(minCoef, coef);
                    for (int t : members) {
                        after[t] = tensorNorms[t] * coef;
                    }
                }
                return report(g, before, Norms.combine(after, p), noScopesIsOne(minCoef), threshold, clipped > 0,
                        clipped, tensorNorms, nonFinite);
            }
        }
    }

    /** The smallest coefficient of no scope at all (no tensors) is 1: nothing changed. */
    private static double noScopesIsOne(double minCoef) {
        return minCoef == Double.POSITIVE_INFINITY ? 1.0 : minCoef;
    }

    private static double minOrNaN(double a, double b) {
        return Math.min(a, b); // Math.min returns NaN if either is NaN
    }

    /** Groups in order of first appearance, each with its tensor numbers. */
    static Map<String, int[]> groups(Gradients g) {
        Map<String, int[]> groups = new LinkedHashMap<>();
        for (int t = 0; t < g.tensorCount(); t++) {
            groups.merge(g.group(t), new int[] {t}, (a, b) -> {
                int[] c = java.util.Arrays.copyOf(a, a.length + 1);
                c[a.length] = b[0];
                return c;
            });
        }
        return groups;
    }

    @Override
    public String toString() {
        return method() + "(c=" + threshold + ", p=" + p + (epsilon > 0 ? ", epsilon=" + epsilon : "")
                + ", " + nonFinitePolicy() + ")";
    }
}
