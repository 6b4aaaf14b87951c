package dev.gradclip.cli.run;

import dev.gradclip.cli.NonFiniteStepException;
import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.Task;
import dev.gradclip.cli.task.TaskSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains one configuration (task, settings, clip spec, optimizer) once per seed, each run in its own
 * folder {@code seed-N}, and keeps what the grid commands ({@code compare}, {@code demo},
 * {@code lab}) print and write: the results, their summary entries, and the first non-finite
 * failure. A run stopped by a non-finite gradient ends that run, not the grid.
 */
public final class SeedRuns {

    private final RunLoop runLoop;
    private final List<Map<String, Object>> summaries = new ArrayList<>();
    private NonFiniteStepException firstFailure;

    /**
     * @param runLoop trains each run
     */
    public SeedRuns(RunLoop runLoop) {
        this.runLoop = runLoop;
    }

    /**
     * Trains the configuration on every seed.
     *
     * @param folder    the configuration's folder; each seed's run goes to {@code seed-N} inside it
     * @param relative  that folder's path relative to the grid's root, for the summary's {@code folder}
     * @param name      the configuration's display name; runs are named "NAME seed N"
     * @param task      the task
     * @param settings  the task options (the seed is replaced)
     * @param clip      the clip spec
     * @param optimizer the optimizer spec
     * @param seeds     the seeds
     * @return one result per seed, in order
     */
    public List<RunResult> train(OutputFolder folder, String relative, String name, Task task, TaskSettings settings,
            ClipSpec clip, OptimizerSpec optimizer, List<Long> seeds) {
        List<RunResult> results = new ArrayList<>();
        for (long seed : seeds) {
            RunPlan plan = new RunPlan(name + " seed " + seed, task, settings.withSeed(seed), clip, optimizer);
            RunResult r;
            try {
                r = runLoop.train(plan, folder.sub("seed-" + seed));
            } catch (NonFiniteStepException e) {
                r = e.result();
                if (firstFailure == null) {
                    firstFailure = e;
                }
            }
            results.add(r);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("folder", relative + "/seed-" + seed);
            m.putAll(r.toSummary());
            summaries.add(m);
        }
        return results;
    }

    /** @return the summary entries of every run so far, each with its {@code folder} */
    public List<Map<String, Object>> summaries() {
        return summaries;
    }

    /** @return the first run stopped by a non-finite gradient under {@code +throw-nonfinite}, or {@code null} */
    public NonFiniteStepException firstFailure() {
        return firstFailure;
    }
}
