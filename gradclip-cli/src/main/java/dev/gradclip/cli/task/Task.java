package dev.gradclip.cli.task;

import dev.gradclip.Clipper;
import dev.gradclip.cli.spec.OptimizerSpec;

/**
 * A training workload of the command: a model, its data and its loss, trained step by step with a
 * clipper and an optimizer. The workloads and their published results are described in
 * {@code lab-tasks.md}.
 */
public interface Task {

    /** @return the name used by {@code --task} */
    String name();

    /** @return one sentence for help texts */
    String description();

    /** @return the steps, clip spec, optimizer spec and learning rate used when none is given */
    TaskDefaults defaults();

    /**
     * Checks, before any output is written, that the task can run with these settings (the dataset
     * is present and readable, the options make sense).
     *
     * @param settings the task options
     * @throws dev.gradclip.cli.UsageException naming the problem and the fix (e.g. the apt-get command)
     */
    default void check(TaskSettings settings) {
    }

    /**
     * Builds the model and data for one run.
     *
     * @param settings  the task options, seed included
     * @param clipper   a fresh clipper for this run
     * @param optimizer the optimizer spec, learning rate filled in
     * @return the run, ready for its first step
     */
    TaskRun start(TaskSettings settings, Clipper clipper, OptimizerSpec optimizer);

    /**
     * How to build this task's model on Spark's executors, for {@code train --spark}: only tasks whose
     * runs are {@link DjlTaskRun}s and whose loss is a mean over examples can train data-parallel.
     *
     * @param settings the task options
     * @return the recipe, or {@code null} when the task cannot train on Spark
     */
    default ModelRecipe modelRecipe(TaskSettings settings) {
        return null;
    }
}
