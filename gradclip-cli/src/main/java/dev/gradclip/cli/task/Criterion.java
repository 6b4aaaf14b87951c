package dev.gradclip.cli.task;

import java.util.Locale;

/**
 * How a task judges a run from its held-out metric: when it has {@linkplain #learned learned} the
 * task, and when its metric has {@linkplain #collapsed collapsed}.
 *
 * <p>The outcome of a run ({@code learned}, {@code diverged}, {@code stalled}) is decided from these
 * by {@link dev.gradclip.cli.run.Outcome}.
 *
 * @param higherIsBetter whether a larger metric is better (accuracy) or worse (error rate, bits)
 * @param target         the metric a run must reach to have learned the task (inclusive)
 * @param collapse       the metric at or beyond which the model has collapsed: at or worse than a
 *                       model that knows nothing (NaN: only a non-finite metric collapses)
 * @param learnedText    the success criterion in words, for the docs and the summary
 * @param worse          the metric at or beyond which the model is clearly worse than one that knows
 *                       nothing, which only a run that blew up reaches (NaN: no such bound)
 * @param learnedText    the success criterion in words
 * @param collapseText   the collapse bound in words
 */
public record Criterion(boolean higherIsBetter, double target, double collapse, double worse, String learnedText,
        String collapseText) {

    /**
     * @param value a metric
     * @return whether it is at or beyond the {@link #worse} bound
     */
    public boolean worseThanNothing(double value) {
        if (Double.isNaN(worse) || Double.isNaN(value)) {
            return false;
        }
        return higherIsBetter ? value <= worse : value >= worse;
    }

    /**
     * @param bound the metric at or beyond which the model is clearly worse than one that knows nothing
     * @return this criterion with that bound
     */
    public Criterion withWorse(double bound) {
        return new Criterion(higherIsBetter, target, collapse, bound, learnedText, collapseText);
    }

    /**
     * @param value a metric
     * @return whether it meets the success criterion (never for NaN)
     */
    public boolean learned(double value) {
        if (Double.isNaN(value)) {
            return false;
        }
        return higherIsBetter ? value >= target : value <= target;
    }

    /**
     * @param value a metric
     * @return whether it is non-finite, or at or beyond the collapse bound
     */
    public boolean collapsed(double value) {
        if (!Double.isFinite(value)) {
            return true;
        }
        if (Double.isNaN(collapse)) {
            return false;
        }
        return higherIsBetter ? value <= collapse : value >= collapse;
    }

    /**
     * A criterion for a metric where smaller is better (error rate, bits per character, loss).
     *
     * @param target      the largest value that counts as learned
     * @param collapse    the value at or above which the model has collapsed (NaN for none)
     * @param metricText  the metric in words, e.g. "error rate on fresh sequences"
     * @return the criterion
     */
    public static Criterion atMost(double target, double collapse, String metricText) {
        return new Criterion(false, target, collapse, Double.NaN,
                metricText + " at most " + fmt(target),
                Double.isNaN(collapse) ? "none" : metricText + " at or above " + fmt(collapse));
    }

    /**
     * A criterion for a metric where larger is better (accuracy).
     *
     * @param target      the smallest value that counts as learned
     * @param collapse    the value at or below which the model has collapsed (NaN for none)
     * @param metricText  the metric in words, e.g. "test accuracy"
     * @return the criterion
     */
    public static Criterion atLeast(double target, double collapse, String metricText) {
        return new Criterion(true, target, collapse, Double.NaN,
                metricText + " at least " + fmt(target),
                Double.isNaN(collapse) ? "none" : metricText + " at or below " + fmt(collapse));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v).replaceAll("\\.?0+$", "");
    }
}
