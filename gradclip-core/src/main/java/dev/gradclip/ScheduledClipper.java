package dev.gradclip;

import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;
import java.util.Objects;

/**
 * Global-norm clipping at a threshold that is a function of the step, for example loose during a
 * warm-up and tight afterwards, or following the learning rate.
 *
 * <p>Rule at step {@code t} (counting from 0 the steps not skipped), with {@code n} the global
 * p-norm: {@code c_t = schedule.valueAt(t)}; if {@code n > c_t}: {@code g ← g · c_t/n}; otherwise
 * nothing is written (Pascanu et al. 2013, arXiv:1211.5063, with a threshold schedule). A skipped
 * step does not advance the schedule. The report's threshold is {@code c_t}.
 *
 * <p>State: the step counter.
 */
public final class ScheduledClipper extends AbstractClipper {

    private static final String KIND = "scheduled";
    private static final int STATE_VERSION = 1;

    private final Schedule threshold;
    private final double p;
    private long steps;

    ScheduledClipper(Schedule threshold, double p, NonFinitePolicy policy) {
        super(policy);
        this.threshold = Objects.requireNonNull(threshold, "threshold");
        this.p = Norms.checkNormType("normType", p);
    }

    /**
     * @param normType the p of the norm: ≥ 1, or {@link Double#POSITIVE_INFINITY}
     * @return a clipper with the same schedule, that norm type and its step counter at 0
     * @throws IllegalArgumentException if {@code normType < 1} or NaN
     */
    public ScheduledClipper withNormType(double normType) {
        return new ScheduledClipper(threshold, normType, nonFinitePolicy());
    }

    @Override
    public ScheduledClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new ScheduledClipper(threshold, p, policy);
    }

    /** @return the threshold schedule */
    public Schedule schedule() {
        return threshold;
    }

    /** @return the number of steps clipped so far (the schedule's position) */
    public long steps() {
        return steps;
    }

    @Override
    public String method() {
        return "scheduled";
    }

    @Override
    protected double normType() {
        return p;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if the schedule gives a threshold that is not finite and positive
     *                               (nothing is written then)
     */
    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double c = threshold.valueAt(steps);
        if (!(c > 0) || c == Double.POSITIVE_INFINITY) {
            throw new IllegalStateException("the threshold schedule gave " + c + " at step " + steps
                    + "; a clipping threshold must be finite and positive");
        }
        double n = Norms.combine(tensorNorms, p);
        double coef = coefficient(n, c, 0.0);
        steps++;
        return scaleAllAndReport(g, n, coef, c, tensorNorms, nonFinite);
    }

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION).writeLong(steps).toByteArray();
    }

    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        long s = r.readLong();
        r.finish();
        if (s < 0) {
            throw new IllegalArgumentException("scheduled state is corrupt: step " + s);
        }
        steps = s;
    }

    @Override
    public String toString() {
        return "scheduled(" + threshold + ", p=" + p + ", step " + steps + ", " + nonFinitePolicy() + ")";
    }
}
