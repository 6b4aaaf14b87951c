package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import ai.djl.training.tracker.WarmUpTracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A trainer restored from {@link DjlTrainingState} at step k continues exactly as one never
 * interrupted: same parameters, bit for bit, for optimizers with moments and update counts: DJL's
 * SGD, Adam and AdamW, and gradclip's {@link DjlNesterov} and {@link DjlRmsProp} (DJL's own Nag and
 * RmsProp updates throw "Not implemented" on the PyTorch engine).
 */
class DjlTrainingStateTest {

    private static final int BATCH = 8;

    /** A small MLP and its trainer; the initial weights depend on {@code initSeed}. */
    private static final class Net implements AutoCloseable {
        final Model model = Model.newInstance("state-test");
        final Trainer trainer;

        Net(int initSeed, Supplier<Optimizer> optimizer) {
            Engine.getInstance().setRandomSeed(initSeed);
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(6).build()).add(Activation::tanh)
                    .add(Linear.builder().setUnits(2).build()));
            trainer = model.newTrainer(new DefaultTrainingConfig(new GcSafeL2Loss()).optOptimizer(optimizer.get()));
            trainer.initialize(new Shape(BATCH, 4));
        }

        void train(long from, long to) {
            for (long step = from; step < to; step++) {
                Random r = new Random(step);
                float[] x = new float[BATCH * 4];
                float[] y = new float[BATCH * 2];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < y.length; i++) {
                    y[i] = (float) r.nextGaussian();
                }
                try (NDManager m = trainer.getManager().newSubManager();
                        GradientCollector c = trainer.newGradientCollector()) {
                    NDList data = new NDList(m.create(x, new Shape(BATCH, 4)));
                    NDList labels = new NDList(m.create(y, new Shape(BATCH, 2)));
                    NDArray loss = trainer.getLoss().evaluate(labels, trainer.forward(data, labels));
                    c.backward(loss);
                }
                trainer.step();
            }
        }

        List<float[]> parameters() {
            List<float[]> out = new ArrayList<>();
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                out.add(p.getValue().getArray().toFloatArray());
            }
            return out;
        }

        @Override
        public void close() {
            trainer.close();
            model.close();
        }
    }

    private static Optimizer adamWithWarmUp() {
        return Optimizer.adam().optLearningRateTracker(Tracker.warmUp().setMainTracker(Tracker.fixed(0.05f))
                .optWarmUpSteps(6).optWarmUpBeginValue(0f).optWarmUpMode(WarmUpTracker.Mode.LINEAR).build()).build();
    }

    private static Optimizer momentum() {
        return Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build();
    }

    private static Optimizer adamW() {
        return Optimizer.adamW().optLearningRateTracker(Tracker.fixed(0.01f)).build();
    }

    private static Optimizer nesterov() {
        return DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.05f)).setMomentum(0.9f).build();
    }

    private static Optimizer centeredRmsPropWithMomentum() {
        return DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.01f)).optCentered(true).optMomentum(0.9f)
                .build();
    }

    @Test
    void aRestoredTrainerContinuesBitForBitAsAnUninterruptedOne() {
        for (Supplier<Optimizer> optimizer : List.<Supplier<Optimizer>>of(
                DjlTrainingStateTest::adamWithWarmUp, DjlTrainingStateTest::momentum,
                DjlTrainingStateTest::adamW, DjlTrainingStateTest::nesterov,
                DjlTrainingStateTest::centeredRmsPropWithMomentum)) {
            List<float[]> uninterrupted;
            byte[] state;
            try (Net a = new Net(1, optimizer)) {
                a.train(0, 4);
                state = DjlTrainingState.save(a.trainer);
                a.train(4, 10);
                uninterrupted = a.parameters();
            }
            try (Net b = new Net(2, optimizer)) {
                assertThat(b.parameters().get(0)).isNotEqualTo(uninterrupted.get(0));
                DjlTrainingState.restore(b.trainer, state);
                assertThat(DjlTrainingState.save(b.trainer)).isEqualTo(state);
                b.train(4, 10);
                List<float[]> resumed = b.parameters();
                for (int i = 0; i < resumed.size(); i++) {
                    assertThat(resumed.get(i)).as("%s parameter %d", optimizer.get(), i)
                            .isEqualTo(uninterrupted.get(i));
                }
            }
        }
    }

    /** The state {@link #main} wrote with the layout of version 1 (Adam with warm-up, two steps). */
    private static final String GOLDEN = "/djl-training-state-v1.bin";

    @Test
    void aStateSavedInLayoutVersionOneStillRestoresAndSavesTheSameBytes() throws java.io.IOException {
        byte[] golden;
        try (java.io.InputStream in = DjlTrainingStateTest.class.getResourceAsStream(GOLDEN)) {
            golden = in.readAllBytes();
        }
        try (Net b = new Net(5, DjlTrainingStateTest::adamWithWarmUp)) {
            DjlTrainingState.restore(b.trainer, golden);
            assertThat(DjlTrainingState.save(b.trainer)).isEqualTo(golden);
        }
    }

    /**
     * Writes the golden state of {@link #aStateSavedInLayoutVersionOneStillRestoresAndSavesTheSameBytes}
     * (run with the test class path, from the module directory).
     *
     * @param args unused
     * @throws java.io.IOException if the file cannot be written
     */
    public static void main(String[] args) throws java.io.IOException {
        try (Net a = new Net(1, DjlTrainingStateTest::adamWithWarmUp)) {
            a.train(0, 2);
            java.nio.file.Files.write(java.nio.file.Path.of("src/test/resources" + GOLDEN),
                    DjlTrainingState.save(a.trainer));
        }
    }

    @Test
    void aStateOfAnotherOptimizerOrAHostileOneIsRefusedAndChangesNothing() {
        byte[] adamState;
        try (Net a = new Net(1, DjlTrainingStateTest::adamWithWarmUp)) {
            a.train(0, 2);
            adamState = DjlTrainingState.save(a.trainer);
        }
        try (Net b = new Net(3, DjlTrainingStateTest::momentum)) {
            b.train(0, 1);
            List<float[]> before = b.parameters();
            assertThatThrownBy(() -> DjlTrainingState.restore(b.trainer, adamState))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("another optimizer");
            assertThatThrownBy(() -> DjlTrainingState.restore(b.trainer, java.util.Arrays.copyOf(adamState, 40)))
                    .isInstanceOf(IllegalArgumentException.class);
            byte[] hostile = adamState.clone();
            java.nio.ByteBuffer.wrap(hostile).putInt(8, Integer.MAX_VALUE);
            assertThatThrownBy(() -> DjlTrainingState.restore(b.trainer, hostile))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("corrupt");
            assertThatThrownBy(() -> DjlTrainingState.restore(b.trainer, new byte[3]))
                    .hasMessageContaining("truncated");
            List<float[]> after = b.parameters();
            for (int i = 0; i < after.size(); i++) {
                assertThat(after.get(i)).isEqualTo(before.get(i));
            }
        }
    }
}
