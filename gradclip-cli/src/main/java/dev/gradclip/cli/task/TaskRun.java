package dev.gradclip.cli.task;

import java.util.List;

/**
 * One training run of a {@link Task}: each {@link #step} computes the loss and the gradients of one
 * batch, clips them, and applies the optimizer unless the clipper says to skip.
 */
public interface TaskRun extends AutoCloseable {

    /** @return the names of the model's layers, in the order of {@link StepResult#layerNorms()} */
    List<String> layers();

    /**
     * Trains one step.
     *
     * @param step the step number, from 1
     * @return the loss of the batch (before the update), the clip report and the per-layer norms
     * @throws dev.gradclip.NonFiniteGradientException under {@code +throw-nonfinite} when a gradient
     *                                                 holds NaN or an infinity
     */
    StepResult step(long step);

    /**
     * Evaluates the current model on held-out data.
     *
     * @return the task's metric
     */
    Evaluation evaluate();

    /** Frees the model and data (native memory for DJL tasks). */
    @Override
    void close();
}
