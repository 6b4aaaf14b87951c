package dev.gradclip.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One training batch as plain arrays, split along its first axis (the examples) into contiguous
 * shards, one per partition.
 *
 * @param inputs      the inputs, row-major, {@code examples × ∏ inputShape[1..]}
 * @param inputShape  the inputs' shape; {@code inputShape[0]} is the number of examples
 * @param labels      the labels, row-major
 * @param labelShape  the labels' shape; {@code labelShape[0]} is the number of examples
 */
public record ShardBatch(float[] inputs, long[] inputShape, float[] labels, long[] labelShape) implements Serializable {

    /**
     * @throws IllegalArgumentException if the shapes disagree with the arrays or with each other
     */
    public ShardBatch {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(labels, "labels");
        inputShape = inputShape.clone();
        labelShape = labelShape.clone();
        if (inputShape.length == 0 || labelShape.length == 0 || inputShape[0] != labelShape[0] || inputShape[0] < 1) {
            throw new IllegalArgumentException("inputShape " + Arrays.toString(inputShape) + " and labelShape "
                    + Arrays.toString(labelShape) + " must both start with the same number of examples, at least 1");
        }
        if (product(inputShape) != inputs.length || product(labelShape) != labels.length) {
            throw new IllegalArgumentException("the arrays hold " + inputs.length + " inputs and " + labels.length
                    + " labels, the shapes " + Arrays.toString(inputShape) + " and " + Arrays.toString(labelShape));
        }
    }

    /** @return the number of examples */
    public int examples() {
        return (int) inputShape[0];
    }

    /**
     * The examples of shard {@code index} of {@code count}: rows {@code [index·n/count,
     * (index+1)·n/count)}, so shards differ in size by at most one and, in index order, are the batch.
     *
     * @param index the shard, from 0
     * @param count the number of shards, at most {@link #examples()}
     * @return the shard
     */
    public ShardBatch shard(int index, int count) {
        if (count < 1 || count > examples() || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + " of " + count + " of a batch of " + examples()
                    + " examples");
        }
        int from = (int) ((long) examples() * index / count);
        int to = (int) ((long) examples() * (index + 1) / count);
        return rows(from, to);
    }

    private ShardBatch rows(int from, int to) {
        int in = inputs.length / examples();
        int lab = labels.length / examples();
        long[] is = inputShape.clone();
        long[] ls = labelShape.clone();
        is[0] = to - from;
        ls[0] = to - from;
        return new ShardBatch(Arrays.copyOfRange(inputs, from * in, to * in), is,
                Arrays.copyOfRange(labels, from * lab, to * lab), ls);
    }

    private static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardBatch b && Arrays.equals(inputs, b.inputs) && Arrays.equals(inputShape, b.inputShape)
                && Arrays.equals(labels, b.labels) && Arrays.equals(labelShape, b.labelShape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(inputs), Arrays.hashCode(labels));
    }

    @Override
    public String toString() {
        return "ShardBatch" + Arrays.toString(inputShape) + "->" + Arrays.toString(labelShape);
    }
}
