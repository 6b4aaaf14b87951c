package dev.gradclip;

import dev.gradclip.internal.Norms;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The skeleton every clipper shares, written once for all backends: measure the per-tensor norms in
 * one pass, apply the {@link NonFinitePolicy}, then let the method decide and apply its rule, and
 * build the {@link ClipReport} with attribution.
 *
 * <p>The flow of {@link #clip(Gradients)}:
 * <ol>
 *   <li>per-tensor norms of type {@link #normType()} in one read pass (a non-finite norm is the only
 *       signal of non-finite values, since double accumulation of finite floats cannot overflow);</li>
 *   <li>only if some norm is not finite: the offending tensors are scanned for the count and the
 *       first bad element, then {@code THROW} throws (gradients untouched), {@code SKIP} returns a
 *       skipped report (gradients and statistics untouched), {@code ZERO} zeroes the bad entries and
 *       measures again, {@code PROPAGATE} goes on;</li>
 *   <li>{@link #apply} decides, writes (or not) and reports.</li>
 * </ol>
 * A {@linkplain Clippers#sharded(Clipper, NormExchange) sharded} clipper runs the same flow on one
 * worker's {@link GradientShard}: step 1 measures the worker's own tensors and exchanges the norms
 * (and what the non-finite scan found) into the whole model's per-tensor norm vector, and steps 2
 * and 3 run, unchanged, on that vector and on a view of the whole model whose writes reach only the
 * worker's own tensors.
 * A subclass that keeps statistics updates them only in {@link #apply}, so a skipped step leaves
 * them as they were.
 */
public abstract class AbstractClipper implements Clipper {

    /** How many tensors a report lists in {@link ClipReport#largest()} by default. */
    public static final int DEFAULT_TOP_K = 5;

    private final NonFinitePolicy policy;

    /**
     * @param policy what to do with NaN and infinite gradients
     */
    protected AbstractClipper(NonFinitePolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    @Override
    public final NonFinitePolicy nonFinitePolicy() {
        return policy;
    }

    /** @return the p of the per-tensor norms this method decides by (2 for L2) */
    protected abstract double normType();

    /**
     * Applies the method's rule once the norms are known and finite (or the policy is
     * {@code PROPAGATE}).
     *
     * @param gradients   the gradients
     * @param tensorNorms per-tensor norms of type {@link #normType()}, before clipping
     * @param nonFinite   what the non-finite scan found ({@link NonFinite#NONE} if nothing)
     * @return the report
     */
    protected abstract ClipReport apply(Gradients gradients, double[] tensorNorms, NonFinite nonFinite);

    /**
     * For a method that can measure, check and write in one pass under its policy: does the whole
     * clip and returns its report, or returns {@code null}, having written nothing, to take the
     * flow above. The default returns {@code null}.
     *
     * @param gradients the gradients
     * @return the report, or {@code null}
     */
    protected ClipReport clipInOnePass(Gradients gradients) {
        return null;
    }

    /**
     * The exchange a sharded clipper measures through, or {@code null} (the default) for a clipper
     * that sees all of the gradients itself. Only {@link ShardedClipper} overrides it.
     *
     * @return the exchange, or {@code null}
     */
    NormExchange normExchange() {
        return null;
    }

    @Override
    public final ClipReport clip(Gradients gradients) {
        Objects.requireNonNull(gradients, "gradients");
        NormExchange exchange = normExchange();
        ShardedMeasurement sharded = null;
        Gradients view = gradients;
        if (exchange != null) {
            if (!(gradients instanceof GradientShard shard)) {
                throw new IllegalArgumentException(method() + " is sharded and clips a GradientShard (this worker's"
                        + " tensors and the model's layout), but was given " + gradients.getClass().getSimpleName());
            }
            sharded = new ShardedMeasurement(shard, exchange);
            view = sharded.view();
        } else if (gradients instanceof GradientShard) {
            throw new IllegalArgumentException(method() + " was given a GradientShard but is not sharded, so it"
                    + " would clip by this worker's tensors alone; use Clippers.sharded(clipper, exchange)");
        }
        if (sharded == null) {
            ClipReport onePass = clipInOnePass(gradients);
            if (onePass != null) {
                return onePass;
            }
        }
        int n = view.tensorCount();
        double p = normType();
        double[] norms = new double[n];
        measure(view, sharded, p, norms);
        NonFinite found = NonFinite.NONE;
        if (!allFinite(norms)) {
            // sharded: every worker has the same norms here, so every worker takes the same branch
            found = sharded == null ? scan(gradients, norms) : sharded.nonFinite();
            switch (policy) {
                case THROW:
                    throw found.exception();
                case SKIP:
                    double before = Norms.combine(norms, p);
                    return new ClipReport(method(), p, before, before, 1.0, Double.NaN, false, true, 0,
                            found.count(), found.tensorName(), found.index(), norms,
                            largest(view, norms, DEFAULT_TOP_K));
                case ZERO:
                    for (int t = 0; t < n; t++) {
                        if (!Double.isFinite(norms[t])) {
                            view.zeroNonFinite(t);
                        }
                    }
                    measure(view, sharded, p, norms);
                    break;
                case PROPAGATE:
                default:
                    break;
            }
        }
        return apply(view, norms, found);
    }

    /** Per-tensor norms of every tensor: measured here, or measured by each worker and exchanged. */
    private static void measure(Gradients g, ShardedMeasurement sharded, double p, double[] out) {
        if (sharded == null) {
            g.norms(p, out);
        } else {
            sharded.measure(p, out);
        }
    }

    /**
     * Builds a report, filling in the attribution.
     *
     * @param gradients    the gradients
     * @param normBefore   global norm before
     * @param normAfter    global norm after
     * @param coefficient  the factor applied (see {@link ClipReport#coefficient()})
     * @param threshold    the threshold in force, NaN if none
     * @param clipped      whether anything changed
     * @param clippedCount how many elements, tensors, groups or units were clipped
     * @param tensorNorms  per-tensor norms before clipping
     * @param nonFinite    what the non-finite scan found
     * @return the report
     */
    protected final ClipReport report(Gradients gradients, double normBefore, double normAfter, double coefficient,
            double threshold, boolean clipped, long clippedCount, double[] tensorNorms, NonFinite nonFinite) {
        return new ClipReport(method(), normType(), normBefore, normAfter, coefficient, threshold, clipped, false,
                clippedCount, nonFinite.count(), nonFinite.tensorName(), nonFinite.index(), tensorNorms,
                largest(gradients, tensorNorms, DEFAULT_TOP_K));
    }

    /**
     * How far above the threshold a norm may be and still count as at the threshold, relative: the
     * guarantee of the default rule ("the clipped norm equals {@code c} within 1e-6 relative").
     * Scaling by {@code c/n} rounds the coefficient and every product to float, and the SIMD sum of
     * squares measures within about 4e-7, so a gradient clipped once measures up to a few 1e-7
     * above {@code c}. Without this band a second clip would multiply by a float just below 1 and
     * change the low bits; with it, clipping twice equals clipping once, bit for bit.
     */
    protected static final double THRESHOLD_TOLERANCE = 1e-6;

    /**
     * The coefficient of a norm rule: with {@code epsilon = 0}, {@code c/n} when
     * {@code n > c·(1 + }{@link #THRESHOLD_TOLERANCE}{@code )} and exactly 1 otherwise (a norm within
     * the tolerance already meets the rule's guarantee); with {@code epsilon > 0}, PyTorch's
     * {@code min(1, c/(n + epsilon))} with no tolerance. A NaN norm (reachable only under
     * {@code PROPAGATE}) gives NaN, an infinite one 0, as in PyTorch.
     *
     * @param norm      the norm n
     * @param threshold the threshold c
     * @param epsilon   0, or the epsilon added to the norm
     * @return the coefficient
     */
    protected static double coefficient(double norm, double threshold, double epsilon) {
        if (Double.isNaN(norm)) {
            return Double.NaN;
        }
        if (epsilon > 0) {
            return Math.min(1.0, threshold / (norm + epsilon));
        }
        return norm > threshold * (1 + THRESHOLD_TOLERANCE) ? threshold / norm : 1.0;
    }

    /**
     * Multiplies every tensor by {@code coefficient} unless it is exactly 1 (no write pass then).
     *
     * @param gradients   the gradients
     * @param coefficient the factor
     */
    protected static void scaleAll(Gradients gradients, double coefficient) {
        if (coefficient == 1.0) {
            return;
        }
        gradients.scaleAll(coefficient);
    }

    /**
     * The tail every global-threshold rule shares: multiply every tensor by {@code coefficient}
     * (no write when it is exactly 1) and report it, with {@code normAfter = normBefore · coefficient}.
     *
     * @param gradients   the gradients
     * @param normBefore  the global norm before clipping
     * @param coefficient the factor the rule chose
     * @param threshold   the threshold in force
     * @param tensorNorms per-tensor norms before clipping
     * @param nonFinite   what the non-finite scan found
     * @return the report
     */
    protected final ClipReport scaleAllAndReport(Gradients gradients, double normBefore, double coefficient,
            double threshold, double[] tensorNorms, NonFinite nonFinite) {
        scaleAll(gradients, coefficient);
        boolean clipped = coefficient != 1.0;
        return report(gradients, normBefore, normBefore * coefficient, coefficient, threshold, clipped,
                clipped ? 1 : 0, tensorNorms, nonFinite);
    }

    private static boolean allFinite(double[] norms) {
        for (double x : norms) {
            if (!Double.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Throws the {@link NonFiniteGradientException} that {@link NonFinitePolicy#THROW} calls for if
     * any of the norms is not finite.
     *
     * @param g     the gradients the norms were measured on
     * @param norms per-tensor norms
     * @throws NonFiniteGradientException naming the first offending tensor and element
     */
    static void requireFinite(Gradients g, double[] norms) {
        if (!allFinite(norms)) {
            throw scan(g, norms).exception();
        }
    }

    private static NonFinite scan(Gradients g, double[] norms) {
        long count = 0;
        int first = -1;
        for (int t = 0; t < norms.length; t++) {
            if (!Double.isFinite(norms[t])) {
                count += g.nonFiniteCount(t);
                if (first < 0) {
                    first = t;
                }
            }
        }
        long index = g.firstNonFinite(first);
        return new NonFinite(count, g.name(first), index, index >= 0 ? g.get(first, index) : Float.NaN);
    }

    /**
     * The k tensors with the largest norms, largest first; a NaN norm counts as the largest.
     *
     * @param g     the gradients (for names)
     * @param norms per-tensor norms
     * @param k     how many
     * @return the list
     */
    static List<TensorNorm> largest(Gradients g, double[] norms, int k) {
        // the order of a stable sort by Double.compare, descending (NaN above +∞, ties by index), kept
        // by insertion into the k best: no boxing, no sort of every tensor at every step
        int m = Math.min(k, norms.length);
        int[] top = new int[m];
        int filled = 0;
        for (int i = 0; i < norms.length; i++) {
            if (filled == m && (m == 0 || Double.compare(norms[i], norms[top[m - 1]]) <= 0)) {
                continue;
            }
            int j = filled < m ? filled++ : m - 1;
            while (j > 0 && Double.compare(norms[i], norms[top[j - 1]]) > 0) {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = i;
        }
        TensorNorm[] out = new TensorNorm[m];
        for (int j = 0; j < m; j++) {
            out[j] = new TensorNorm(g.name(top[j]), top[j], norms[top[j]]);
        }
        return List.of(out);
    }


    /**
     * What the non-finite scan found.
     *
     * @param count      number of NaN and infinite elements
     * @param tensorName first offending tensor, or {@code null}
     * @param index      first offending element in it, or -1
     * @param value      that element's value
     */
    protected record NonFinite(long count, String tensorName, long index, float value) {
        /** Nothing non-finite. */
        public static final NonFinite NONE = new NonFinite(0, null, -1, 0f);

        /** @return the exception {@link NonFinitePolicy#THROW} throws for what was found */
        NonFiniteGradientException exception() {
            return new NonFiniteGradientException(tensorName, index, value, count);
        }
    }
}
