package dev.gradclip;

import dev.gradclip.internal.Norms;

/**
 * Clips by value: every element is clamped to {@code [-c, c]}, keeping its sign.
 *
 * <p>Rule: {@code g_i ← min(max(g_i, -c), c)}. Two-sided as in Keras {@code clipvalue}, TensorFlow
 * {@code clip_by_value}, PyTorch {@code clip_grad_value_} and DL4J {@code ClipElementWiseAbsoluteValue}
 * (DJL's PyTorch engine clamps only the upper side, a defect this class does not share).
 *
 * <p>Only vectors holding an element outside the bounds are written. The report counts the elements
 * changed, gives the L2 norm before and after (the latter measured again only when something was
 * clamped) and, as coefficient, their ratio. NaN elements stay NaN under {@code PROPAGATE}.
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

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double before = Norms.combine(tensorNorms, 2.0);
        long changed = 0;
        double[] afterNorms = new double[g.tensorCount()];
        boolean measured = true;
        for (int t = 0; t < g.tensorCount(); t++) {
            changed += g.clampAndMeasure(t, limit, afterNorms);
            measured &= !Double.isNaN(afterNorms[t]);
        }
        double after = before;
        if (changed > 0) {
            if (!measured) {
                g.norms(2.0, afterNorms);
            }
            after = Norms.combine(afterNorms, 2.0);
        }
        double coef = changed == 0 || before == 0 ? 1.0 : after / before;
        return report(g, before, after, coef, limit, changed > 0, changed, tensorNorms, nonFinite);
    }

    @Override
    public String toString() {
        return "value(c=" + limit + ", " + nonFinitePolicy() + ")";
    }
}
