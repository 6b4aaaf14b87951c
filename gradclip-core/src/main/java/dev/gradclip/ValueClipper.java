package dev.gradclip;

import dev.gradclip.internal.Norms;

/**
 * Clips by value: every element is clamped to {@code [-c, c]}, keeping its sign.
 *
 * <p>Rule: {@code g_i ← min(max(g_i, -c), c)}. Two-sided as in Keras {@code clipvalue}, TensorFlow
 * {@code clip_by_value}, PyTorch {@code clip_grad_value_} and DL4J {@code ClipElementWiseAbsoluteValue}
 * (DJL's PyTorch engine clamps only the upper side, a defect this class does not share).
 *
 * <p>The SIMD kernels write only the pairs of vectors that hold an element outside the bounds (the
 * scalar ones write every element back, unchanged ones with their own bits). The report counts the elements
 * changed, gives the L2 norm before and after and, as coefficient, their ratio ({@code 1} when
 * nothing changed or the norm before is 0). NaN elements stay NaN under {@code PROPAGATE}, and an
 * infinity becomes {@code ±c} there, as with PyTorch's {@code clip_grad_value_}.
 *
 * <p><b>Passes over memory.</b> Under {@code PROPAGATE} and {@code ZERO}, on a backend that
 * {@linkplain Gradients#clampsInOnePass() clamps in one pass} ({@link GradientSet}), each gradient
 * is read and written once: the norm before, the non-finite count and first offender, the zeroing
 * (under {@code ZERO}), the clamp and the norm after are all taken in that pass. Under
 * {@code THROW} (the default) and {@code SKIP} the gradients must be left untouched when any
 * element is NaN or infinite, and an element can be clamped only after every element, the last one
 * included, has been seen; a single pass over data larger than the cache cannot do both, so these
 * policies read once (norms and the non-finite check) and then clamp in a second pass that also
 * measures the result (on such a backend, the same one-pass kernel over every tensor at once).
 *
 * <p>Value clipping changes the gradient's direction; prefer a norm-based clipper when direction
 * matters (Pascanu et al. 2013, arXiv:1211.5063).
 */
public final class ValueClipper extends AbstractClipper {

    private final double limit;

    ValueClipper(double limit, NonFinitePolicy policy) {
        super(policy);
        this.limit = Norms.checkThreshold("clipValue", limit);
    }

    /** @return the bound c */
    public double limit() {
        return limit;
    }

    @Override
    public ValueClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new ValueClipper(limit, policy);
    }

    @Override
    public String method() {
        return "value";
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: under {@code PROPAGATE} and {@code ZERO}, on a backend that clamps in one pass, the
     * whole clip in one read-and-write pass per tensor; otherwise {@code null}.
     */
    @Override
    protected ClipReport clipInOnePass(Gradients g) {
        NonFinitePolicy policy = nonFinitePolicy();
        if (policy != NonFinitePolicy.PROPAGATE && policy != NonFinitePolicy.ZERO || !g.clampsInOnePass()) {
            return null;
        }
        int n = g.tensorCount();
        double[] before = new double[n];
        double[] after = new double[n];
        long changed = 0;
        long bad = 0;
        int firstTensor = -1;
        ClampResult first = null;
        ClampResult[] results = g.clampInOnePass(limit, policy == NonFinitePolicy.ZERO);
        for (int t = 0; t < n; t++) {
            ClampResult r = results[t];
            before[t] = Math.sqrt(r.sumOfSquaresBefore());
            after[t] = Math.sqrt(r.sumOfSquaresAfter());
            changed += r.changed();
            bad += r.nonFiniteCount();
            if (firstTensor < 0 && r.nonFiniteCount() > 0) {
                firstTensor = t;
                first = r;
            }
        }
        NonFinite nonFinite = first == null ? NonFinite.NONE
                : new NonFinite(bad, g.name(firstTensor), first.firstNonFinite(), first.firstNonFiniteValue());
        return report(g, before, after, changed, nonFinite);
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        long changed = 0;
        double[] afterNorms = new double[g.tensorCount()];
        if (g.clampsInOnePass()) {
            // the check is done (or the policy lets non-finite values through): one clamp pass over
            // every tensor, measuring as it writes, instead of one call per tensor
            ClampResult[] results = g.clampInOnePass(limit, false);
            for (int t = 0; t < afterNorms.length; t++) {
                afterNorms[t] = Math.sqrt(results[t].sumOfSquaresAfter());
                changed += results[t].changed();
            }
            return report(g, tensorNorms, afterNorms, changed, nonFinite);
        }
        boolean measured = true;
        for (int t = 0; t < g.tensorCount(); t++) {
            changed += g.clampAndMeasure(t, limit, afterNorms);
            measured &= !Double.isNaN(afterNorms[t]);
        }
        if (changed > 0 && !measured) {
            g.norms(2.0, afterNorms);
        }
        return report(g, tensorNorms, afterNorms, changed, nonFinite);
    }

    private ClipReport report(Gradients g, double[] tensorNorms, double[] afterNorms, long changed,
            NonFinite nonFinite) {
        double before = Norms.combine(tensorNorms, 2.0);
        double after = changed > 0 ? Norms.combine(afterNorms, 2.0) : before;
        double coef = changed == 0 || before == 0 ? 1.0 : after / before;
        return report(g, before, after, coef, limit, changed > 0, changed, tensorNorms, nonFinite);
    }

    @Override
    public String toString() {
        return "value(c=" + limit + ", " + nonFinitePolicy() + ")";
    }
}
