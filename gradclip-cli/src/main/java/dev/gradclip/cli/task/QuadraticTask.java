package dev.gradclip.cli.task;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.GradientSet;
import dev.gradclip.cli.UsageException;
import dev.gradclip.optim.TrainingStep;
import dev.gradclip.cli.spec.OptimizerSpec;
import java.util.List;
import java.util.Map;

/**
 * The seed example: minimise {@code J(x) = x²} from {@code x0} with gradient {@code 2x}.
 *
 * <p>Defaults: {@code x0 = 1.0}, {@code sgd:lr=0.1}, {@code value:1.0}, 100 steps. Then the gradient
 * is clipped to 1 while {@code |2x| > 1}, so {@code x} goes 1.0, 0.9, … 0.5, and after that
 * {@code x ← 0.8·x}. From a huge start ({@code --x0 1e6}) clipping bounds every step to
 * {@code η·c}, where unclipped descent with {@code η > 1} diverges geometrically.
 *
 * <p>Evaluation: the final loss {@code x²}; a success when it is below 1e-6.
 */
public final class QuadraticTask implements Task {

    /** The task's name. */
    public static final String NAME = "quadratic";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "the seed example J(x) = x^2 from --x0 (default 1.0), gradient 2x";
    }

    @Override
    public TaskDefaults defaults() {
        return new TaskDefaults(100, "value:1.0", "sgd:lr=0.1", 0.1, 1);
    }

    @Override
    public void check(TaskSettings settings) {
        if (settings.x0() != null && !Double.isFinite(settings.x0())) {
            throw new UsageException("--x0 must be finite, got " + settings.x0());
        }
    }

    @Override
    public TaskRun start(TaskSettings settings, Clipper clipper, OptimizerSpec optimizer) {
        check(settings);
        double x0 = settings.x0() == null ? 1.0 : settings.x0();
        return new Run((float) x0, TrainingStep.of(clipper,
                optimizer.newOptimizer(defaults().learningRate(), settings.steps())));
    }

    private static final class Run implements TaskRun {
        private final float[] x;
        private final float[] grad = new float[1];
        private final GradientSet gradients;
        private final TrainingStep update;
        private final LayerNorms layerNorms;
        private final float x0;

        Run(float x0, TrainingStep update) {
            this.x0 = x0;
            this.x = new float[] {x0};
            this.gradients = GradientSet.builder().add("x", grad, x, 1).build();
            this.update = update;
            this.layerNorms = new LayerNorms(gradients);
        }

        @Override
        public List<String> layers() {
            return layerNorms.layers();
        }

        @Override
        public StepMetrics step(long step) {
            double loss = (double) x[0] * x[0];
            grad[0] = 2f * x[0];
            ClipReport report = update.update(gradients).clip();
            return new StepMetrics(loss, report, layerNorms.of(report), Map.of("x", (double) x[0]));
        }

        @Override
        public byte[] saveState() {
            byte[] step = update.saveState();
            return java.nio.ByteBuffer.allocate(Float.BYTES + step.length)
                    .putFloat(x[0]).put(step).array();
        }

        @Override
        public void restoreState(byte[] state) {
            if (state.length < Float.BYTES) {
                throw new IllegalArgumentException("quadratic state is truncated (" + state.length + " bytes)");
            }
            java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(state);
            float restored = in.getFloat();
            byte[] step = new byte[in.remaining()];
            in.get(step);
            update.restoreState(step);
            x[0] = restored;
        }

        @Override
        public HeldOutMetric evaluate() {
            double loss = (double) x[0] * x[0];
            return new HeldOutMetric("loss", loss, Criterion.atMost(1e-6, Double.NaN, "loss x^2"));
        }

        @Override
        public void close() {
        }
    }
}
