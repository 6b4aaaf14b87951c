package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link GcSafeL2Loss}: the value of DJL's {@code L2Loss} bit for bit, and gradients that a garbage
 * collection between forward and backward leaves as they are (DJL's own loss, whose weight is a
 * scalar over a Java buffer, gets every gradient multiplied by freed memory there).
 */
class GcSafeL2LossTest {

    private static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (scale * r.nextGaussian());
        }
        return v;
    }

    @Test
    void theValueIsDjlsL2LossBitForBit() {
        Random r = new Random(3);
        try (NDManager m = NDManager.newBaseManager()) {
            for (float weight : new float[] {0.5f, 0.1f, 1f, 3f}) {
                for (long[] shape : new long[][] {{8, 2}, {5}, {3, 4, 2}, {1}}) {
                    int n = Math.toIntExact(new Shape(shape).size());
                    NDArray pred = m.create(gaussian(r, n, 10), new Shape(shape));
                    // a label of another shape with as many elements is reshaped to the prediction's
                    NDArray label = m.create(gaussian(r, n, 10), new Shape(n, 1));
                    float ours = new GcSafeL2Loss("l2", weight).evaluate(new NDList(label), new NDList(pred))
                            .getFloat();
                    float djl = Loss.l2Loss("l2", weight).evaluate(new NDList(label), new NDList(pred)).getFloat();
                    assertThat(Float.floatToRawIntBits(ours)).as("weight %s, shape %s", weight, new Shape(shape))
                            .isEqualTo(Float.floatToRawIntBits(djl));
                }
            }
        }
        assertThat(new GcSafeL2Loss().getWeight()).isEqualTo(0.5f);
        assertThat(new GcSafeL2Loss().getName()).isEqualTo(Loss.l2Loss().getName());
    }

    @Test
    void aWeightMustBeFinite() {
        assertThatThrownBy(() -> new GcSafeL2Loss("l2", Float.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> new GcSafeL2Loss("l2", Float.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Infinity");
    }

    /** The gradients of a small tanh network after one backward, with full collections before it or not. */
    private static List<float[]> gradients(Loss loss, boolean collectBeforeBackward) throws InterruptedException {
        Random r = new Random(7);
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("gc")) {
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(4).build()).add(Activation::tanh)
                    .add(Linear.builder().setUnits(2).build()));
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(loss))) {
                trainer.initialize(new Shape(6, 3));
                for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                    NDArray a = p.getValue().getArray();
                    a.set(gaussian(r, Math.toIntExact(a.size()), 0.5));
                }
                NDArray x = m.create(gaussian(r, 18, 1), new Shape(6, 3));
                NDArray y = m.create(gaussian(r, 12, 1), new Shape(6, 2));
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDArray l = loss.evaluate(new NDList(y), trainer.forward(new NDList(x)));
                    if (collectBeforeBackward) {
                        // full collections, and time for the cleaner thread to free what they found
                        for (int i = 0; i < 3; i++) {
                            System.gc();
                            Thread.sleep(20);
                        }
                    }
                    collector.backward(l);
                }
                List<float[]> out = new ArrayList<>();
                for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                    try (NDArray g = p.getValue().getArray().getGradient()) {
                        out.add(g.toFloatArray());
                    }
                }
                return out;
            }
        }
    }

    @Test
    void aCollectionBetweenForwardAndBackwardLeavesTheGradientsAsTheyAre() throws InterruptedException {
        List<float[]> djl = gradients(Loss.l2Loss(), false);
        List<float[]> quiet = gradients(new GcSafeL2Loss(), false);
        List<float[]> collected = gradients(new GcSafeL2Loss(), true);
        assertThat(quiet).hasSameSizeAs(djl);
        for (int t = 0; t < djl.size(); t++) {
            assertThat(quiet.get(t)).as("tensor %d, DJL's loss and this one", t).containsExactly(djl.get(t));
            assertThat(collected.get(t)).as("tensor %d, with collections before backward", t)
                    .containsExactly(quiet.get(t));
            boolean nonZero = false;
            for (float v : quiet.get(t)) {
                nonZero |= v != 0f;
            }
            assertThat(nonZero).as("tensor %d has a gradient", t).isTrue();
        }
    }
}
