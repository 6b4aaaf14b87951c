package dev.gradclip;

/**
 * A value as a function of the training step: a learning rate for an optimizer, or a threshold for
 * {@link Clippers#scheduled(Schedule) a scheduled clipper}.
 *
 * <p>The step is the number of steps applied so far, starting at 0; skipped steps do not count, so a
 * schedule does not advance on a skipped step (as DeepSpeed's loss scaler leaves the learning-rate
 * schedule in place on overflow). A schedule is a pure function: it keeps no state, and the position
 * in it is the step counter saved by whoever uses it.
 *
 * <pre>{@code
 * Schedule lr = Schedule.cosine(0.1, 10_000, 0.0).withLinearWarmup(500);
 * }</pre>
 */
@FunctionalInterface
public interface Schedule {

    /**
     * @param step the number of steps applied so far, ≥ 0
     * @return the value for the next step
     */
    double valueAt(long step);

    /**
     * A constant value.
     *
     * @param value the value, finite
     * @return the schedule
     * @throws IllegalArgumentException if {@code value} is not finite
     */
    static Schedule constant(double value) {
        checkFinite("value", value);
        return new Schedules.Constant(value);
    }

    /**
     * Step decay, as PyTorch's {@code StepLR}: {@code v(t) = initial · gamma^floor(t / stepSize)}.
     *
     * @param initial  the value at step 0, finite
     * @param stepSize how many steps between decays, ≥ 1
     * @param gamma    the factor applied at every decay, finite and positive (PyTorch: 0.1)
     * @return the schedule
     * @throws IllegalArgumentException if an argument is out of range
     */
    static Schedule step(double initial, long stepSize, double gamma) {
        checkFinite("initial", initial);
        if (stepSize < 1) {
            throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
        }
        if (!(gamma > 0) || gamma == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("gamma must be finite and positive, got " + gamma);
        }
        return new Schedules.Step(initial, stepSize, gamma);
    }

    /**
     * Cosine annealing, as PyTorch's {@code CosineAnnealingLR} over one half period (Loshchilov and
     * Hutter, "SGDR", arXiv:1608.03983):
     * {@code v(t) = minimum + (initial − minimum)·(1 + cos(π·t/totalSteps))/2} for
     * {@code t ≤ totalSteps}, and {@code minimum} after (PyTorch would rise again; a run past its
     * planned length keeps the final value instead).
     *
     * @param initial    the value at step 0, finite
     * @param totalSteps the step at which the minimum is reached, ≥ 1
     * @param minimum    the final value, finite
     * @return the schedule
     * @throws IllegalArgumentException if an argument is out of range
     */
    static Schedule cosine(double initial, long totalSteps, double minimum) {
        checkFinite("initial", initial);
        checkFinite("minimum", minimum);
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        }
        return new Schedules.Cosine(initial, totalSteps, minimum);
    }

    /**
     * Linear warm-up in front of a schedule: {@code v(t) = base(t) · min(1, (t + 1)/warmupSteps)}.
     * The first step already has a non-zero value ({@code base(0)/warmupSteps}), so no step is
     * wasted and a warmed-up clipping threshold is never 0; the full value is reached at step
     * {@code warmupSteps − 1}.
     *
     * @param warmupSteps the length of the warm-up, ≥ 1
     * @param base        the schedule after the warm-up
     * @return the schedule
     * @throws IllegalArgumentException if {@code warmupSteps < 1}
     */
    static Schedule linearWarmup(long warmupSteps, Schedule base) {
        java.util.Objects.requireNonNull(base, "base");
        if (warmupSteps < 1) {
            throw new IllegalArgumentException("warmupSteps must be >= 1, got " + warmupSteps);
        }
        return new Schedules.Warmup(warmupSteps, base);
    }

    /**
     * @param warmupSteps the length of the warm-up, ≥ 1
     * @return {@link #linearWarmup(long, Schedule) linearWarmup(warmupSteps, this)}
     * @throws IllegalArgumentException if {@code warmupSteps < 1}
     */
    default Schedule withLinearWarmup(long warmupSteps) {
        return linearWarmup(warmupSteps, this);
    }

    private static void checkFinite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be finite, got " + value);
        }
    }
}
