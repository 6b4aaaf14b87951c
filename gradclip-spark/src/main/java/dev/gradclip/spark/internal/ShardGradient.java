package dev.gradclip.spark.internal;

import java.io.Serializable;

/**
 * What one partition sends back to the driver in a step.
 *
 * @param index     the partition's index, the order in which the driver sums
 * @param examples  how many examples the shard held
 * @param loss      the mean loss over them
 * @param gradients the gradient of that mean loss, one array per parameter tensor
 */
public record ShardGradient(int index, int examples, double loss, float[][] gradients) implements Serializable {
}
