package dev.gradclip.optim;

import dev.gradclip.GradientSet;
import dev.gradclip.Schedule;

/**
 * A first-order optimizer on {@code float[]} parameters, updating them in place from their
 * gradients, with explicit state that can be saved and restored exactly.
 *
 * <p>Lifecycle (as Tribuo's optimisers and Optax's {@code init}/{@code update}): the state (moments,
 * buffers) is created lazily at the first {@link #step(float[][], float[][]) step}, sized to the
 * parameters given then; later steps must pass the same number of tensors with the same lengths.
 * {@link #stepCount()} counts the steps applied; the learning rate of the next step is
 * {@code schedule.valueAt(stepCount())}, so the schedule advances only with applied steps. A caller
 * that skips a step (see {@link TrainingStep}) simply does not call {@code step}, and the parameters
 * and every moment stay exactly as they were.
 *
 * <p>Arithmetic is done per element in {@code double} and each result is rounded once to
 * {@code float}; moments are stored as {@code float}, like the parameters, as in PyTorch.
 * An optimizer trusts its gradients: NaN or infinite gradients reach the parameters. Clip them
 * first with a {@link dev.gradclip.Clipper} whose {@link dev.gradclip.NonFinitePolicy} is not
 * {@code PROPAGATE}, as {@link TrainingStep} does.
 *
 * <p>Create optimizers with {@link Optimizers}. They are not thread-safe.
 */
public interface Optimizer {

    /**
     * Applies one update to the parameters, in place.
     *
     * @param parameters the parameter tensors, updated in place
     * @param gradients  their gradients, same count and lengths; not modified
     * @throws IllegalArgumentException if counts or lengths differ from each other or from those the
     *                                  state was created for
     * @throws IllegalStateException    if the schedule gives a learning rate that is negative or not
     *                                  finite
     */
    void step(float[][] parameters, float[][] gradients);

    /**
     * Applies one update to the parameters of a gradient set ({@link GradientSet#parameter(int)}),
     * from its gradients.
     *
     * @param set gradients paired with their parameters
     * @throws IllegalArgumentException if a tensor of the set has no parameter values, or as
     *                                  {@link #step(float[][], float[][])}
     */
    default void step(GradientSet set) {
        float[][] params = set.parameters();
        float[][] grads = set.gradients();
        step(params, grads);
    }

    /** @return the number of steps applied since creation or {@link #reset()} */
    long stepCount();

    /** @return the learning rate the next step will use, {@code schedule.valueAt(stepCount())} */
    double learningRate();

    /** @return the learning-rate schedule */
    Schedule schedule();

    /** @return the optimizer's name as used in specs and reports, e.g. {@code "adamw"} */
    String name();

    /** Forgets every moment and the step counter, as if newly created. */
    void reset();

    /**
     * Serialises the step counter and every moment, doubles and floats as raw bits.
     *
     * @return the state
     */
    byte[] saveState();

    /**
     * Restores a state saved by {@link #saveState()} of an optimizer with the same settings; after
     * it, the optimizer continues bit for bit as the one that saved it. On failure nothing changes.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if the state was saved by another kind of optimizer or is
     *                                  corrupt
     */
    void restoreState(byte[] state);
}
