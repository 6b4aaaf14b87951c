package dev.gradclip.cli.task;

import dev.gradclip.ClipReport;
import java.util.Map;

/**
 * What one training step did.
 *
 * @param loss       the batch loss before the update (NaN or infinite when training diverged)
 * @param report     the clipper's report
 * @param layerNorms the L2 norm of each layer's gradient before clipping, in the order of
 *                   {@link TaskRun#layers()}
 * @param extras     task-specific numbers written to the metrics (e.g. {@code x} for quadratic)
 */
public record StepResult(double loss, ClipReport report, double[] layerNorms, Map<String, Double> extras) {

    /** Copies the mutable components. */
    public StepResult {
        layerNorms = layerNorms.clone();
        extras = Map.copyOf(extras);
    }

    /** @return a copy of the per-layer norms */
    @Override
    public double[] layerNorms() {
        return layerNorms.clone();
    }
}
