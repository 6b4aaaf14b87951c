package dev.gradclip.cli.task;

import ai.djl.nn.Block;
import ai.djl.training.loss.Loss;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * How to build a task's model anywhere: on the driver and on every Spark executor ({@code train
 * --spark}); it is serialised and shipped, so its suppliers must be serialisable lambdas.
 *
 * @param block        builds a new, uninitialised block, the same structure as the task's own
 * @param loss         builds the task's loss, a mean over the examples of a batch
 * @param exampleShape the shape of one example's input, without the batch axis
 */
public record ModelRecipe(Factory<Block> block, Factory<Loss> loss, long[] exampleShape) implements Serializable {

    /**
     * A serialisable supplier.
     *
     * @param <T> what it builds
     */
    @FunctionalInterface
    public interface Factory<T> extends Supplier<T>, Serializable {
    }
}
