package dev.gradclip.spark;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.loss.Loss;
import java.io.Serializable;

/**
 * The model trained data-parallel: how every executor builds the same DJL block and loss. It is
 * shipped to the executors (hence {@link Serializable}); each executor JVM builds the block once per
 * run and reuses it for every step, writing the driver's parameters into it before each gradient.
 *
 * <p>The loss must be a mean over the examples of the batch (DJL's losses are): the driver weights
 * each partition's gradient by its share of the examples, so the sum is the gradient of the mean
 * over the whole batch.
 */
public interface ShardModel extends Serializable {

    /** @return a new, uninitialised block; every call builds the same structure */
    Block newBlock();

    /** @return the loss, a mean over the examples of a batch */
    Loss newLoss();

    /**
     * @return the shape of one example's input, without the batch axis (for an MLP on 28×28 images:
     *         {@code (784)}); the block is initialised with a batch of one
     */
    Shape exampleShape();
}
