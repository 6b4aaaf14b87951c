package dev.gradclip.faults;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Gradients;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import java.util.Objects;

/**
 * A clipper that first injects a step's faults into the gradients, then clips them with the clipper
 * it wraps, and counts in a {@link FaultTally} how each fault was handled. It lets a training loop
 * that only knows a {@link Clipper} (a task, a {@code TrainingStep}) run with fault injection,
 * whatever the backend.
 *
 * <p>Steps are numbered by the caller: {@link #atStep(long)} names the step the next
 * {@link #clip(Gradients)} belongs to, and each call that returns moves to the next step, so a loop
 * that clips once per step needs to set it only once, at the start (or at the resume point).
 *
 * <p>{@link #saveState()} and {@link #restoreState(byte[])} are the wrapped clipper's: the tally is
 * the caller's to save, and the injector has no state (its faults depend only on seed and step).
 */
public final class FaultInjectingClipper implements Clipper {

    private final Clipper delegate;
    private final FaultInjector injector;
    private final FaultTally tally;
    private long step;
    private Injection last;

    /**
     * @param delegate the clipper that clips after the injection
     * @param injector the faults to inject
     * @param tally    where injected faults and their handling are counted
     * @param step     the step of the first {@link #clip(Gradients)} call, ≥ 0
     * @throws IllegalArgumentException if {@code step} is negative
     */
    public FaultInjectingClipper(Clipper delegate, FaultInjector injector, FaultTally tally, long step) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.injector = Objects.requireNonNull(injector, "injector");
        this.tally = Objects.requireNonNull(tally, "tally");
        atStep(step);
    }

    /**
     * Names the step the next {@link #clip(Gradients)} belongs to.
     *
     * @param step the step, ≥ 0
     * @return this clipper
     * @throws IllegalArgumentException if {@code step} is negative
     */
    public FaultInjectingClipper atStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        this.step = step;
        return this;
    }

    /** @return the step the next {@link #clip(Gradients)} belongs to */
    public long nextStep() {
        return step;
    }

    /** @return what the last {@link #clip(Gradients)} call injected, or {@code null} before the first */
    public Injection lastInjection() {
        return last;
    }

    /** @return the wrapped clipper */
    public Clipper delegate() {
        return delegate;
    }

    /** @return the injector */
    public FaultInjector injector() {
        return injector;
    }

    /** @return the tally this clipper counts into */
    public FaultTally tally() {
        return tally;
    }

    /**
     * Injects this step's faults, then clips with the wrapped clipper.
     *
     * @param gradients the gradients of one step
     * @return the wrapped clipper's report
     * @throws NonFiniteGradientException under {@code THROW} when the gradients (injected or not)
     *                                    hold a non-finite value; the injection is counted as stopped
     */
    @Override
    public ClipReport clip(Gradients gradients) {
        Injection injection = injector.inject(step, gradients);
        last = injection;
        ClipReport report;
        try {
            report = delegate.clip(gradients);
        } catch (NonFiniteGradientException e) {
            tally.recordStopped(injection);
            throw e;
        }
        tally.record(injection, report, delegate.nonFinitePolicy());
        step++;
        return report;
    }

    @Override
    public String method() {
        return delegate.method();
    }

    @Override
    public NonFinitePolicy nonFinitePolicy() {
        return delegate.nonFinitePolicy();
    }

    /**
     * The wrapped clipper with another policy, injecting the same faults into the same tally.
     *
     * @param policy the policy
     * @return a new wrapper around {@code delegate().withNonFinitePolicy(policy)}
     */
    @Override
    public Clipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new FaultInjectingClipper(delegate.withNonFinitePolicy(policy), injector, tally, step);
    }

    @Override
    public byte[] saveState() {
        return delegate.saveState();
    }

    @Override
    public void restoreState(byte[] state) {
        delegate.restoreState(state);
    }

    @Override
    public String toString() {
        return "FaultInjectingClipper[" + injector + " -> " + delegate + "]";
    }
}
