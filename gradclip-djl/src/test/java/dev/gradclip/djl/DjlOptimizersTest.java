package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.engine.Engine;
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
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.gradclip.optim.Optimizers;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DjlNesterov} and {@link DjlRmsProp} on the PyTorch engine follow gradclip-core's
 * {@code float[]} optimizers (same PyTorch formulas, computed in double there) within 1e-6 over
 * several steps, close every temporary array, and clear the weight's gradient as DJL's native
 * updates do.
 */
class DjlOptimizersTest {

    private static final double TOLERANCE = 1e-6;
    private static final int STEPS = 6;
    private static final long[][] SHAPES = {{5, 4}, {4}, {}, {0}};
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** A DJL optimizer and the core optimizer with the same settings. */
    private record Pairing(Supplier<Optimizer> djl, Supplier<dev.gradclip.optim.Optimizer> core) {
        @Override
        public String toString() {
            return djl.get().getClass().getSimpleName();
        }
    }

    static Stream<Arguments> pairings() {
        return Stream.of(
                Arguments.of("nesterov lr=0.05 mu=0.9", new Pairing(
                        () -> DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.05f)).setMomentum(0.9f).build(),
                        () -> Optimizers.nesterov(0.05f, 0.9f))),
                Arguments.of("nesterov with weight decay", new Pairing(
                        () -> DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.02f)).setMomentum(0.5f)
                                .optWeightDecays(0.1f).build(),
                        () -> Optimizers.nesterov(0.02f, 0.5f).withWeightDecay(0.1f))),
                Arguments.of("rmsprop defaults", new Pairing(
                        () -> DjlRmsProp.builder().build(),
                        () -> Optimizers.rmsProp(DjlRmsProp.DEFAULT_LEARNING_RATE))),
                Arguments.of("rmsprop centered", new Pairing(
                        () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.001f)).optCentered(true).build(),
                        () -> Optimizers.rmsProp(0.001f).withCentered(true))),
                Arguments.of("rmsprop momentum", new Pairing(
                        () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.001f)).optMomentum(0.9f).build(),
                        () -> Optimizers.rmsProp(0.001f).withMomentum(0.9f))),
                Arguments.of("rmsprop centered momentum alpha eps decay", new Pairing(
                        () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.003f)).optCentered(true)
                                .optMomentum(0.8f).optAlpha(0.9f).optEpsilon(1e-3f).optWeightDecays(0.05f).build(),
                        () -> Optimizers.rmsProp(0.003f).withCentered(true).withMomentum(0.8f).withAlpha(0.9f)
                                .withEpsilon(1e-3f).withWeightDecay(0.05f))));
    }

    private static float[][] random(Random r, double scale) {
        float[][] out = new float[SHAPES.length][];
        for (int t = 0; t < SHAPES.length; t++) {
            out[t] = new float[(int) new Shape(SHAPES[t]).size()];
            for (int i = 0; i < out[t].length; i++) {
                out[t][i] = (float) (r.nextGaussian() * scale * (1 + t));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairings")
    void followsTheCoreOptimizerOverSeveralSteps(String name, Pairing pairing) {
        Random r = new Random(name.hashCode());
        float[][] expected = random(r, 0.5);
        float[][] initial = java.util.Arrays.stream(expected).map(float[]::clone).toArray(float[][]::new);
        Optimizer djl = pairing.djl().get();
        dev.gradclip.optim.Optimizer core = pairing.core().get();
        try (NDManager m = manager.newSubManager()) {
            NDArray[] weights = new NDArray[SHAPES.length];
            for (int t = 0; t < SHAPES.length; t++) {
                weights[t] = m.create(expected[t], new Shape(SHAPES[t]));
            }
            int arraysBefore = m.getManagedArrays().size();
            for (int step = 0; step < STEPS; step++) {
                // gradients of changing scale, so that the moments are not in a steady state
                float[][] grads = random(r, Math.pow(3, step % 3 - 1));
                for (int t = 0; t < SHAPES.length; t++) {
                    try (NDArray g = m.create(grads[t], new Shape(SHAPES[t]))) {
                        djl.update("p" + t, weights[t], g);
                    }
                }
                core.step(expected, grads);
                for (int t = 0; t < SHAPES.length; t++) {
                    float[] actual = weights[t].toFloatArray();
                    for (int i = 0; i < actual.length; i++) {
                        assertThat((double) actual[i]).as("%s step %d tensor %d element %d", name, step, t, i)
                                .isCloseTo(expected[t][i], within(TOLERANCE));
                    }
                }
            }
            // the parameters must have moved well beyond the tolerance, or the comparison proves nothing
            for (int t = 0; t < 3; t++) {
                float[] actual = weights[t].toFloatArray();
                for (int i = 0; i < actual.length; i++) {
                    assertThat((double) Math.abs(actual[i] - initial[t][i])).isGreaterThan(100 * TOLERANCE);
                }
            }
            assertThat(m.getManagedArrays()).as("temporaries left in the weights' manager").hasSize(arraysBefore);
        }
    }

    /** A small MLP on the PyTorch engine trained with {@code trainer.step()}. */
    private static final class Net implements AutoCloseable {
        final Model model = Model.newInstance("optimizer-test");
        final Trainer trainer;

        Net(Optimizer optimizer) {
            Engine.getInstance().setRandomSeed(5);
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(6).build()).add(Activation::tanh)
                    .add(Linear.builder().setUnits(2).build()));
            trainer = model.newTrainer(new DefaultTrainingConfig(new GcSafeL2Loss()).optOptimizer(optimizer));
            trainer.initialize(new Shape(4, 3));
        }

        void backward(Random r) {
            float[] x = new float[4 * 3];
            float[] y = new float[4 * 2];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) r.nextGaussian();
            }
            try (NDManager m = trainer.getManager().newSubManager();
                    GradientCollector c = trainer.newGradientCollector()) {
                NDList data = new NDList(m.create(x, new Shape(4, 3)));
                NDList labels = new NDList(m.create(y, new Shape(4, 2)));
                c.backward(trainer.getLoss().evaluate(labels, trainer.forward(data, labels)));
            }
        }

        List<NDArray> parameters() {
            List<NDArray> out = new ArrayList<>();
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                out.add(p.getValue().getArray());
            }
            return out;
        }

        float[][] values() {
            return parameters().stream().map(NDArray::toFloatArray).toArray(float[][]::new);
        }

        float[][] gradients() {
            float[][] out = new float[parameters().size()][];
            int i = 0;
            for (NDArray p : parameters()) {
                try (NDArray g = p.getGradient()) {
                    out[i++] = g.toFloatArray();
                }
            }
            return out;
        }

        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairings")
    void inATrainerStepsMatchTheCoreOptimizerAndClearTheGradients(String name, Pairing pairing) {
        Random r = new Random(11);
        try (Net net = new Net(pairing.djl().get())) {
            dev.gradclip.optim.Optimizer core = pairing.core().get();
            float[][] expected = net.values();
            for (int step = 0; step < 4; step++) {
                net.backward(r);
                float[][] grads = net.gradients();
                net.trainer.step();
                core.step(expected, grads);
                float[][] actual = net.values();
                for (int t = 0; t < actual.length; t++) {
                    for (int i = 0; i < actual[t].length; i++) {
                        assertThat((double) actual[t][i]).as("%s step %d tensor %d element %d", name, step, t, i)
                                .isCloseTo(expected[t][i], within(TOLERANCE));
                    }
                }
                // a gradient left in place would be added to the next backward pass
                for (float[] g : net.gradients()) {
                    assertThat(g).containsOnly(0f);
                }
            }
        }
    }

    @Test
    void badSettingsAreRefusedWithTheirNameAndValue() {
        assertThatThrownBy(() -> DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.1f)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("momentum");
        assertThatThrownBy(() -> DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.1f)).setMomentum(1f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("momentum").hasMessageContaining("1.0");
        assertThatThrownBy(() -> DjlNesterov.builder().setMomentum(0.9f).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("learningRateTracker");
        assertThatThrownBy(() -> DjlRmsProp.builder().optAlpha(1f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha").hasMessageContaining("1.0");
        assertThatThrownBy(() -> DjlRmsProp.builder().optEpsilon(Float.NaN).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("epsilon");
        assertThatThrownBy(() -> DjlRmsProp.builder().optMomentum(-0.1f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("momentum");
        assertThatThrownBy(() -> DjlRmsProp.builder().optWeightDecays(-1f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("weightDecays");
    }

    @Test
    void aLearningRateTrackerGivingNaNStopsTheUpdateBeforeAnythingChanges() {
        Optimizer rms = DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(Float.NaN)).build();
        try (NDManager m = manager.newSubManager()) {
            NDArray w = m.create(new float[] {1f, 2f});
            NDArray g = m.create(new float[] {0.5f, -0.5f});
            assertThatThrownBy(() -> rms.update("w", w, g)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("NaN");
            assertThat(w.toFloatArray()).containsExactly(1f, 2f);
        }
    }
}
