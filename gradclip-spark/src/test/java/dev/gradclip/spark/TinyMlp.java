package dev.gradclip.spark;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.loss.Loss;
import java.util.Random;

/** A small MLP classifier for the tests: {@code features → hidden → hidden → classes}, ReLU. */
record TinyMlp(int features, int hidden, int classes) implements ShardModel {

    @Override
    public Block newBlock() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(hidden).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(classes).build());
    }

    @Override
    public Loss newLoss() {
        return Loss.softmaxCrossEntropyLoss();
    }

    @Override
    public Shape exampleShape() {
        return new Shape(features);
    }

    /** A batch of Gaussian inputs whose class is the index of the largest of the first features. */
    ShardBatch batch(int examples, long seed) {
        Random r = new Random(seed);
        float[] x = new float[examples * features];
        float[] y = new float[examples];
        for (int e = 0; e < examples; e++) {
            int best = 0;
            for (int f = 0; f < features; f++) {
                x[e * features + f] = (float) (3 * r.nextGaussian());
                if (f < classes && x[e * features + f] > x[e * features + best]) {
                    best = f;
                }
            }
            y[e] = best;
        }
        return new ShardBatch(x, new long[] {examples, features}, y, new long[] {examples});
    }
}
