package dev.gradclip.cli.task;

import dev.gradclip.ClipReport;
import java.util.Map;

/**
 * What one training step of a {@link TaskRun} did, as the command records it in a
 * {@code metrics.jsonl} row (named apart from gradclip-djl's {@code StepResult}, which a DJL task's
 * step starts from).
 *
 * @param loss       the batch loss before the update (NaN or infinite when training diverged)
 * @param report     the clipper's report
 * @param layerNorms the L2 norm of each layer's gradient before clipping, in the order of
 *                   {@link TaskRun#layers()}
 * @param extras     task-specific numbers written to the metrics (e.g. {@code x} for quadratic)
 */
public record StepMetrics(double loss, ClipReport report, double[] layerNorms, Map<String, Double> extras) {

    /** Copies the mutable components. */
    public StepMetrics {
        layerNorms = layerNorms.clone();
        extras = Map.copyOf(extras);
    }

    /** @return a copy of the per-layer norms */
    @Override
    public double[] layerNorms() {
        return layerNorms.clone();
    }
}
