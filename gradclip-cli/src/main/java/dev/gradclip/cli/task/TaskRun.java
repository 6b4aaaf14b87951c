package dev.gradclip.cli.task;

import java.util.List;

/**
 * One training run of a {@link Task}: each {@link #step} computes the loss and the gradients of one
 * batch, clips them, and applies the optimizer unless the clipper says to skip.
 */
public interface TaskRun extends AutoCloseable {

    /** @return the names of the model's layers, in the order of {@link StepMetrics#layerNorms()} */
    List<String> layers();

    /**
     * Trains one step.
     *
     * @param step the step number, from 1
     * @return the loss of the batch (before the update), the clip report and the per-layer norms
     * @throws dev.gradclip.NonFiniteGradientException under {@code +throw-nonfinite} when a gradient
     *                                                 holds NaN or an infinity
     */
    StepMetrics step(long step);

    /**
     * Evaluates the current model on held-out data.
     *
     * @return the task's metric
     */
    HeldOutMetric evaluate();

    /**
     * Serialises everything the run needs to continue bit for bit after the last step that returned
     * (parameters, optimizer and clipper state, data order and random state), for checkpoints. A step
     * that threw changed none of it.
     *
     * @return the state
     * @throws UnsupportedOperationException if this task cannot be checkpointed
     */
    default byte[] saveState() {
        throw new UnsupportedOperationException("this task cannot be checkpointed");
    }

    /**
     * Restores a state saved by {@link #saveState()} of a run started with the same settings.
     *
     * @param state the saved state
     * @throws IllegalArgumentException      if the state is corrupt or belongs to other settings
     * @throws UnsupportedOperationException if this task cannot be checkpointed
     */
    default void restoreState(byte[] state) {
        throw new UnsupportedOperationException("this task cannot be checkpointed");
    }

    /** Frees the model and data (native memory for DJL tasks). */
    @Override
    void close();
}
