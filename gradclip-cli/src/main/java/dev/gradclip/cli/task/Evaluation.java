package dev.gradclip.cli.task;

/**
 * A task's held-out metric after training.
 *
 * @param metric  its name, e.g. {@code error_rate}, {@code test_accuracy}, {@code bits_per_char}
 * @param value   its value (NaN when the model diverged)
 * @param success whether the run counts as a success for this task (see the task's description)
 */
public record Evaluation(String metric, double value, boolean success) {
}
