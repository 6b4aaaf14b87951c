package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.junit.jupiter.api.Test;

/**
 * The gradient handles of CPU tensors kept across steps: they are the gradient the optimizer reads
 * at every step of a DJL training loop, a gradient not yet made by backward is never kept, and a
 * parameter array replaced or closed makes the view fetch the handle again or throw, never read or
 * write through the old one.
 */
class HandleReuseTest {

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    @Test
    void aKeptHandleIsTheGradientTheOptimizerReadsAtEveryStep() {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("linear")) {
            model.setBlock(Linear.builder().setUnits(3).build());
            DefaultTrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(4, 5));
                DjlGradients g = DjlGradients.of(trainer);
                for (int step = 0; step < 4; step++) {
                    NDArray x = m.create(HostReadTest.gaussian(20, 30 + step), new Shape(4, 5));
                    NDArray y = m.create(HostReadTest.gaussian(12, 40 + step), new Shape(4, 3));
                    try (GradientCollector c = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                        c.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(pred)));
                    }
                    double[] norms = new double[g.tensorCount()];
                    g.norms(2, norms);
                    for (int t = 0; t < g.tensorCount(); t++) {
                        NDArray p = model.getBlock().getParameters().get(g.name(t)).getArray();
                        float[] fresh = p.getGradient().toFloatArray();
                        assertThat(norms[t]).as("step %d tensor %d", step, t)
                                .isCloseTo(norm(fresh), within(1e-12 * norm(fresh)));
                        g.scale(t, 0.5);
                        float[] halved = p.getGradient().toFloatArray();
                        for (int i = 0; i < fresh.length; i++) {
                            assertThat(halved[i]).isEqualTo(fresh[i] * 0.5f);
                        }
                        assertThat(g.keepsHandle(t)).as("step %d tensor %d kept", step, t).isTrue();
                    }
                    g.close();
                    trainer.step();
                }
            }
        }
    }

    @Test
    void aGradientNotYetMadeByBackwardIsNotKept() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(12, 7), new Shape(3, 4));
            w.setRequiresGradient(true);
            try (DjlGradients g = DjlGradients.builder().addParameter("w", "g", w).build()) {
                double[] out = new double[1];
                g.norms(2, out);
                assertThat(out[0]).isZero();
                assertThat(g.keepsHandle(0)).isFalse();
                g.close();
                try (GradientCollector c = m.getEngine().newGradientCollector()) {
                    c.backward(w.mul(m.full(new Shape(), 2f)).sum());
                }
                g.norms(2, out);
                assertThat(out[0]).isEqualTo(Math.sqrt(12 * 4.0));
                assertThat(g.keepsHandle(0)).isTrue();
            }
        }
    }

    @Test
    void aGradientWhoseStorageWasSetAnewIsReadThroughAFreshView() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(3000, 10), new Shape(3000));
            w.setRequiresGradient(true);
            try (GradientCollector c = m.getEngine().newGradientCollector()) {
                c.backward(w.mul(m.full(new Shape(), 2f)).sum());
            }
            NDArray given = m.create(HostReadTest.gaussian(3000, 11));
            try (DjlGradients g = DjlGradients.builder().addParameter("w", "g", w)
                    .addGradient("v", "g", given, null).build()) {
                double[] out = new double[2];
                g.norms(2, out);
                assertThat(g.keepsHandle(0)).isTrue();
                g.close();
                // set(Buffer) points the tensor at new memory under the same native handle
                float[] threes = new float[3000];
                java.util.Arrays.fill(threes, 3f);
                w.getGradient().set(java.nio.FloatBuffer.wrap(threes));
                given.set(java.nio.FloatBuffer.wrap(threes));
                g.norms(2, out);
                assertThat(out).containsOnly(Math.sqrt(3000 * 9.0));
                g.scale(0, 1.0 / 3);
                g.scale(1, 1.0 / 3);
                assertThat(w.getGradient().toFloatArray()).containsOnly(1f);
                assertThat(given.toFloatArray()).containsOnly(1f);
            }
        }
    }

    @Test
    void aReplacedParameterArrayIsReadThroughAFreshHandle() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(12, 8), new Shape(3, 4));
            w.setRequiresGradient(true);
            try (GradientCollector c = m.getEngine().newGradientCollector()) {
                c.backward(w.mul(m.full(new Shape(), 2f)).sum());
            }
            try (DjlGradients g = DjlGradients.builder().addParameter("w", "g", w).build()) {
                double[] out = new double[1];
                g.norms(2, out);
                assertThat(g.keepsHandle(0)).isTrue();
                g.close();
                // intern swaps the native tensor under the same Java array: its gradient is another one
                NDArray other = m.create(HostReadTest.gaussian(12, 9), new Shape(3, 4));
                w.intern(other);
                w.setRequiresGradient(true);
                try (GradientCollector c = m.getEngine().newGradientCollector()) {
                    c.backward(w.mul(m.full(new Shape(), 5f)).sum());
                }
                g.norms(2, out);
                assertThat(out[0]).isEqualTo(Math.sqrt(12 * 25.0));
                g.scale(0, 0.2);
                assertThat(w.getGradient().toFloatArray()).containsOnly(1f);
                assertThat(g.keepsHandle(0)).as("the new handle is kept in turn").isTrue();
                g.close();
                w.close();
                assertThatThrownBy(() -> g.norms(2, out)).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(() -> g.scale(0, 0.5)).isInstanceOf(IllegalStateException.class);
            }
        }
    }
}
