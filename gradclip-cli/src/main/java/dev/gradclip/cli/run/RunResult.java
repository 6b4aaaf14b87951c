package dev.gradclip.cli.run;

import dev.gradclip.cli.task.HeldOutMetric;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one training run, as written to its {@code summary.json}.
 *
 * @param name             the run's name
 * @param task             the task's name
 * @param clip             the clip spec's label
 * @param optimizer        the optimizer spec
 * @param seed             the seed
 * @param steps            the planned steps
 * @param stepsCompleted   the steps trained (fewer when the run diverged or stopped)
 * @param firstLoss        the first step's loss
 * @param finalLoss        the mean loss over the task's loss window at the end (NaN when diverged)
 * @param evaluation       the held-out metric at the end
 * @param outcome          learned, diverged or stalled, and why (see {@link Outcome})
 * @param divergedAtStep   the step at which a non-finite loss or gradient stopped the run, or 0
 * @param clippedSteps     steps whose gradients were clipped
 * @param skippedSteps     steps skipped (non-finite gradients under skip, or the spike guard)
 * @param wallSeconds      wall time of the run, evaluation included
 * @param layers           the layer names
 * @param explodingLayers  layers whose gradient exploded
 * @param vanishingLayers  layers whose gradient vanished
 * @param error            why the run stopped early, or {@code null}
 * @param gradNorms        the pre-clip gradient norm of every completed step (not in the summary)
 */
public record RunResult(String name, String task, String clip, String optimizer, long seed, int steps,
        int stepsCompleted, double firstLoss, double finalLoss, HeldOutMetric evaluation, Outcome outcome,
        long divergedAtStep, long clippedSteps, long skippedSteps, double wallSeconds, List<String> layers,
        List<String> explodingLayers, List<String> vanishingLayers, String error, double[] gradNorms) {

    /** @return whether the run diverged (see {@link Outcome}) */
    public boolean diverged() {
        return outcome.diverged();
    }

    /** @return whether the run learned the task (see {@link Outcome}) */
    public boolean success() {
        return outcome.learned();
    }

    /**
     * @return the fields of {@code summary.json}, in a stable order
     */
    public Map<String, Object> toSummary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("task", task);
        m.put("clip", clip);
        m.put("optimizer", optimizer);
        m.put("seed", seed);
        m.put("steps", steps);
        m.put("steps_completed", stepsCompleted);
        m.put("first_loss", firstLoss);
        m.put("outcome", outcome.kind().id());
        m.put("outcome_reason", outcome.reason());
        m.put("final_loss", finalLoss);
        Map<String, Object> eval = new LinkedHashMap<>();
        eval.put("metric", evaluation.metric());
        eval.put("value", evaluation.value());
        eval.put("success", evaluation.success());
        eval.put("criterion", evaluation.criterion().learnedText());
        m.put("eval", eval);
        m.put("steps_to_success", outcome.stepsToSuccess() == 0 ? null : outcome.stepsToSuccess());
        m.put("diverged", outcome.diverged());
        m.put("diverged_at_step", divergedAtStep == 0 ? null : divergedAtStep);
        m.put("clipped_steps", clippedSteps);
        m.put("skipped_steps", skippedSteps);
        m.put("wall_seconds", Math.round(wallSeconds * 1000) / 1000.0);
        m.put("success", success());
        m.put("layers", layers);
        m.put("exploding_layers", explodingLayers);
        m.put("vanishing_layers", vanishingLayers);
        if (error != null) {
            m.put("error", error);
        }
        return m;
    }
}
