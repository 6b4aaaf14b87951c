package dev.gradclip.cli.task;

/**
 * A task's held-out metric, with the criterion that judges it.
 *
 * @param metric    its name, e.g. {@code error_rate}, {@code test_accuracy}, {@code bits_per_char}
 * @param value     its value (NaN when the model diverged)
 * @param criterion when the value means learned or collapsed (see the task's description)
 */
public record HeldOutMetric(String metric, double value, Criterion criterion) {

    /** @return whether the value meets the task's success criterion */
    public boolean success() {
        return criterion.learned(value);
    }

    /** @return whether the value is non-finite or at or beyond the task's collapse bound */
    public boolean collapsed() {
        return criterion.collapsed(value);
    }

    /**
     * @param newValue another value of the same metric
     * @return an evaluation of that value under the same criterion
     */
    public HeldOutMetric withValue(double newValue) {
        return new HeldOutMetric(metric, newValue, criterion);
    }
}
