package dev.gradclip.cli.spec;

import dev.gradclip.AbstractClipper;
import dev.gradclip.ClipReport;
import dev.gradclip.Gradients;
import dev.gradclip.NonFinitePolicy;

/**
 * The clip spec {@code none}: measures the gradients (so a run without clipping still logs its norms
 * and per-layer norms) and applies the non-finite policy, but never changes a finite gradient.
 *
 * <p>Rule: {@code n = sqrt(Σ_t ‖t‖²)}; the report has coefficient 1, no threshold (NaN) and
 * {@code clipped = false}. With {@link NonFinitePolicy#ZERO} the non-finite entries are still
 * zeroed, as the policy says.
 */
public final class PassThroughClipper extends AbstractClipper {

    /**
     * @param policy what to do with NaN and infinite gradients
     */
    public PassThroughClipper(NonFinitePolicy policy) {
        super(policy);
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients gradients, double[] tensorNorms, NonFinite nonFinite) {
        double n = l2(tensorNorms);
        return report(gradients, n, n, 1.0, Double.NaN, false, 0, tensorNorms, nonFinite);
    }

    /**
     * The L2 combination of L2 norms, scaled by the largest so that no square overflows.
     *
     * @param norms per-tensor L2 norms
     * @return {@code sqrt(Σ n²)}; NaN if any is NaN, +∞ if any is infinite
     */
    static double l2(double[] norms) {
        double max = 0;
        for (double x : norms) {
            if (Double.isNaN(x)) {
                return Double.NaN;
            }
            max = Math.max(max, x);
        }
        if (max == 0 || Double.isInfinite(max)) {
            return max;
        }
        double sum = 0;
        for (double x : norms) {
            double r = x / max;
            sum += r * r;
        }
        return max * Math.sqrt(sum);
    }

    @Override
    public String method() {
        return "none";
    }

    @Override
    public PassThroughClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new PassThroughClipper(policy);
    }

    @Override
    public String toString() {
        return "none (" + nonFinitePolicy() + ")";
    }
}
