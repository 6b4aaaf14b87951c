package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.gradclip.ClipReport;
import dev.gradclip.Clippers;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The DJL hooks: the listener with EasyTrain, the skipping loop, metrics. */
@Tag("training")
class TrainingHooksTest {

    private static final float LEARNING_RATE = 1.0f;
    private static final double MAX_NORM = 0.01;

    /** A linear model on targets far from its predictions, so the first gradient is large. */
    private static ArrayDataset data(NDManager m, int rows) {
        Random r = new Random(3);
        float[] x = new float[rows * 4];
        float[] y = new float[rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < rows; i++) {
            y[i] = 100f + i;
        }
        return new ArrayDataset.Builder().setData(m.create(x, new Shape(rows, 4)))
                .optLabels(m.create(y, new Shape(rows, 1))).setSampling(rows, false).build();
    }

    /** Every parameter of the model, concatenated in the block's order. */
    static float[] parameters(Model model) {
        List<Float> all = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            for (float v : p.getValue().getArray().toFloatArray()) {
                all.add(v);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    /** The Euclidean distance between two parameter vectors. */
    static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    @Test
    void listenerClipsBetweenBackwardAndStepUnderEasyTrain() throws Exception {
        GradientClipListener clip = GradientClipListener.builder().setClipper(Clippers.globalNorm(MAX_NORM)).build();
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("linear")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(LEARNING_RATE)).build())
                    .addTrainingListeners(clip);
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.setMetrics(new Metrics());
                trainer.initialize(new Shape(8, 4));
                float[] before = parameters(model);
                EasyTrain.fit(trainer, 1, data(m, 8), null);
                float[] after = parameters(model);
                ClipReport report = clip.getLastReport();
                assertThat(report.normBefore()).as("the raw gradient is large").isGreaterThan(100);
                assertThat(report.clipped()).isTrue();
                assertThat(report.largest().get(0).name()).isIn("weight", "bias");
                // SGD moved the parameters by lr · (clipped gradient): the step happened after the clip
                assertThat(distance(before, after)).isCloseTo(LEARNING_RATE * MAX_NORM,
                        org.assertj.core.data.Offset.offset(1e-6));
                assertThat(clip.getSteps()).isEqualTo(1);
                assertThat(clip.getClippedSteps()).isEqualTo(1);
                Metrics metrics = trainer.getMetrics();
                assertThat(metrics.latestMetric("gradclip_norm").getValue()).isEqualTo(report.normBefore());
                assertThat(metrics.latestMetric("gradclip_clipped").getValue()).isEqualTo(1.0);
                assertThat(metrics.getMetric("gradclip_top_norm")).hasSize(2);
            }
        }
    }

    @Test
    void builderRejectsMissingRequiredSettings() {
        assertThatThrownBy(() -> GradientClipListener.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clipper");
        assertThatThrownBy(() -> ClippedTrainer.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trainer");
        assertThatThrownBy(() -> GradientClipListener.builder().setClipper(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("Clippers.none()");
        assertThatThrownBy(() -> ClippedTrainer.builder().setClipper(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("Clippers.none()");
    }

    @Test
    void aClippedTrainerNeedsAClipperAndTrainsUnclippedOnlyWhenToldTo() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("linear")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            DefaultTrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(LEARNING_RATE)).build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(8, 4));
                // once a loop without a clipper trained unclipped without a word
                assertThatThrownBy(() -> ClippedTrainer.builder().setTrainer(trainer).build())
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("setClipper").hasMessageContaining("Clippers.none()");
                ClippedTrainer loop = ClippedTrainer.builder().setTrainer(trainer).setClipper(Clippers.none()).build();
                float[] before = parameters(model);
                ai.djl.training.dataset.Batch batch = trainer.iterateDataset(data(m, 8)).iterator().next();
                StepResult r;
                try {
                    r = loop.trainBatch(batch);
                } finally {
                    batch.close();
                }
                assertThat(r.report().method()).isEqualTo("none");
                assertThat(r.report().clipped()).isFalse();
                assertThat(r.report().normAfter()).isEqualTo(r.report().normBefore()).isGreaterThan(100);
                // SGD moved the parameters by lr · (raw gradient): nothing was clipped
                assertThat(distance(before, parameters(model))).isCloseTo(LEARNING_RATE * r.report().normBefore(),
                        org.assertj.core.data.Percentage.withPercentage(1e-3));
                assertThat(loop.getClipper().method()).isEqualTo("none");
            }
        }
    }

    @Test
    void gradientsOfAnUntrainedParameterAreReadAsZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1, 2});
            w.setRequiresGradient(true);
            DjlGradients g = DjlGradients.builder().addParameter("w", "layer", w).build();
            double[] n = new double[1];
            g.norms(2.0, n);
            assertThat(n[0]).isZero();
        }
    }
}
