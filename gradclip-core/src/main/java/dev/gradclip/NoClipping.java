package dev.gradclip;

import dev.gradclip.internal.Norms;

/**
 * Measures and reports, but never clips: the baseline of a comparison, and the clipper of a
 * {@code TrainingStep} that should only apply the {@link NonFinitePolicy} (the policy still acts:
 * with {@code THROW} a NaN gradient still throws; use {@code PROPAGATE} to let it through as an
 * unclipped framework would).
 */
final class NoClipping extends AbstractClipper {

    NoClipping(NonFinitePolicy policy) {
        super(policy);
    }

    @Override
    public String method() {
        return "none";
    }

    @Override
    public NoClipping withNonFinitePolicy(NonFinitePolicy policy) {
        return new NoClipping(policy);
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double n = Norms.combine(tensorNorms, 2.0);
        return report(g, n, n, 1.0, Double.NaN, false, 0, tensorNorms, nonFinite);
    }

    @Override
    public String toString() {
        return "none(" + nonFinitePolicy() + ")";
    }
}
