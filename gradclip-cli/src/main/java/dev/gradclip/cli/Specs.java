package dev.gradclip.cli;

import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.Task;

/**
 * Parses the specs of the command line, turning their errors into {@link UsageException}s.
 */
final class Specs {

    private Specs() {
    }

    /**
     * @param text the clip spec, or {@code null} for the task's default
     * @param task the task
     * @return the spec, its clipper built and checked
     */
    static ClipSpec clip(String text, Task task) {
        try {
            return ClipSpec.parse(text == null ? task.defaults().clip() : text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * @param text the optimizer spec, or {@code null} for the task's default
     * @param task the task
     * @return the spec with the learning rate filled in
     */
    static OptimizerSpec optimizer(String text, Task task) {
        try {
            return OptimizerSpec.parse(text == null ? task.defaults().optimizer() : text)
                    .withDefaultLearningRate(task.defaults().learningRate());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }
}
