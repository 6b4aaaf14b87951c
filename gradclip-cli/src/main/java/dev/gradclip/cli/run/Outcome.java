package dev.gradclip.cli.run;

import dev.gradclip.cli.task.Criterion;
import dev.gradclip.cli.task.HeldOutMetric;
import java.util.Locale;

/**
 * How a run ended: it {@linkplain Kind#LEARNED learned} the task, it {@linkplain Kind#DIVERGED
 * diverged}, or it {@linkplain Kind#STALLED stalled}, with the reason in words.
 *
 * <p>The rule, in this order (the first that applies). {@code start} is the first step's training
 * loss (the untrained model's), {@code peak} the largest mean loss over any window of steps and
 * {@code final} the mean of the last window; the window is the task's loss window.
 * <ol>
 *   <li><b>diverged</b> when a loss or gradient became NaN or infinite and reached the parameters
 *       (the run stopped there: {@code +propagate-nonfinite} gives a non-finite loss,
 *       {@code +throw-nonfinite} stops at the gradient). Steps skipped or zeroed by the non-finite
 *       policy are handled, not divergence;</li>
 *   <li><b>diverged</b> when {@code final} is {@value #BLOW_UP} times {@code start} or more: the loss
 *       blew up and stayed up;</li>
 *   <li><b>diverged</b> when the final held-out metric is clearly worse than a model that knows
 *       nothing (the task's {@link Criterion#worse()} bound, e.g. bits per character a bit above a
 *       uniform guess), which no untrained model reaches;</li>
 *   <li><b>diverged</b> when the final held-out metric has collapsed (non-finite, or at or beyond the
 *       task's collapse bound: no better than a model that knows nothing, e.g. 10% accuracy on ten
 *       classes) after {@code peak} reached {@value #BLOW_UP} times {@code start}: the run blew up
 *       and did not recover. A collapsed metric without such a rise is an untrained model, which
 *       stalled;</li>
 *   <li><b>learned</b> when the final held-out metric meets the task's success criterion;</li>
 *   <li><b>stalled</b> otherwise: finite, not collapsed, not learned.</li>
 * </ol>
 *
 * @param kind           learned, diverged or stalled
 * @param reason         why, in one sentence
 * @param stepsToSuccess the first step whose periodic evaluation met the success criterion, or 0
 */
public record Outcome(Kind kind, String reason, long stepsToSuccess) {

    /** How many times its start a loss must reach to count as blown up. */
    public static final double BLOW_UP = 10;

    /** The three outcomes, as written to {@code summary.json}. */
    public enum Kind {
        /** The task's success criterion is met on held-out data. */
        LEARNED,
        /** Non-finite, collapsed or blown up. */
        DIVERGED,
        /** Finite, not learned. */
        STALLED;

        /** @return the lower-case name used in files and tables */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Decides a run's outcome.
     *
     * @param losses         the training loss of every completed step, in order
     * @param window         the task's loss window (at least 1)
     * @param nonFiniteStep  the step at which a non-finite loss or gradient stopped the run, or 0
     * @param nonFiniteWhat  what was non-finite ("loss", "gradient")
     * @param evaluation     the final held-out evaluation
     * @param stepsToSuccess the first evaluated step that met the criterion, or 0
     * @return the outcome
     */
    public static Outcome decide(double[] losses, int window, long nonFiniteStep, String nonFiniteWhat,
            HeldOutMetric evaluation, long stepsToSuccess) {
        if (nonFiniteStep > 0) {
            return new Outcome(Kind.DIVERGED, "non-finite " + nonFiniteWhat + " at step " + nonFiniteStep, 0);
        }
        int n = losses.length;
        int w = Math.max(1, Math.min(window, n));
        double start = n == 0 ? Double.NaN : losses[0];
        double peak = Double.NaN;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += losses[i];
            if (i >= w) {
                sum -= losses[i - w];
            }
            if (i >= w - 1 && !(sum / w <= peak)) {
                peak = sum / w;
            }
        }
        double last = n == 0 ? Double.NaN : sum / w;
        if (last >= BLOW_UP * start) {
            return new Outcome(Kind.DIVERGED, String.format(Locale.ROOT,
                    "the loss blew up: %s at the end, %.0f times its start %s", num(last), last / start, num(start)), 0);
        }
        Criterion c = evaluation.criterion();
        if (c.worseThanNothing(evaluation.value())) {
            return new Outcome(Kind.DIVERGED, evaluation.metric() + " " + num(evaluation.value())
                    + " is worse than a model that knows nothing", 0);
        }
        if (evaluation.collapsed() && peak >= BLOW_UP * start) {
            return new Outcome(Kind.DIVERGED, evaluation.metric() + " " + num(evaluation.value())
                    + " has collapsed (" + c.collapseText() + ") after the loss rose from " + num(start) + " to "
                    + num(peak), 0);
        }
        if (evaluation.success()) {
            return new Outcome(Kind.LEARNED, evaluation.metric() + " " + num(evaluation.value()) + " meets "
                    + c.learnedText(), stepsToSuccess);
        }
        return new Outcome(Kind.STALLED, evaluation.metric() + " " + num(evaluation.value()) + " misses "
                + c.learnedText(), 0);
    }

    /** @return whether the run diverged */
    public boolean diverged() {
        return kind == Kind.DIVERGED;
    }

    /** @return whether the run learned the task */
    public boolean learned() {
        return kind == Kind.LEARNED;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
