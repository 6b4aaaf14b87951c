package dev.gradclip.cli.run;

import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.Task;
import dev.gradclip.cli.task.TaskSettings;

/**
 * Everything that defines one training run; the same plan gives the same numbers.
 *
 * @param name      the run's name in tables and reports
 * @param task      the workload
 * @param settings  the task options, seed and steps included
 * @param clip      the clip spec
 * @param optimizer the optimizer spec, learning rate filled in
 */
public record RunPlan(String name, Task task, TaskSettings settings, ClipSpec clip, OptimizerSpec optimizer) {
}
