package dev.gradclip.cli.run;

import dev.gradclip.cli.task.Criterion;
import dev.gradclip.cli.task.Evaluation;
import java.util.Locale;

/**
 * How a run ended: it {@linkplain Kind#LEARNED learned} the task, it {@linkplain Kind#DIVERGED
 * diverged}, or it {@linkplain Kind#STALLED stalled}, with the reason in words.
 *
 * <p>The rule, in this order (the first that applies):
 * <ol>
 *   <li><b>diverged</b> when a loss or gradient became NaN or infinite and reached the parameters
 *       (the run stopped there: {@code +propagate-nonfinite} gives a non-finite loss,
 *       {@code +throw-nonfinite} stops at the gradient). Steps skipped or zeroed by the non-finite
 *       policy are handled, not divergence;</li>
 *   <li><b>diverged</b> when the final held-out metric has collapsed (non-finite, or at or beyond the
 *       task's collapse bound: no better than a model that knows nothing, e.g. 10% accuracy on ten
 *       classes, or bits per character above a uniform guess) after the training loss rose to
 *       {@value Criterion#BLOW_UP} times its first value or more: the run blew up and did not recover.
 *       A collapsed metric without such a rise is an untrained model, which stalled;</li>
 *   <li><b>diverged</b> when the final training loss (the mean of the task's loss window) is above
 *       {@value Criterion#BLOW_UP} times the trivial predictor's loss;</li>
 *   <li><b>learned</b> when the final held-out metric meets the task's success criterion;</li>
 *   <li><b>stalled</b> otherwise: finite, not collapsed, not learned.</li>
 * </ol>
 *
 * @param kind           learned, diverged or stalled
 * @param reason         why, in one sentence
 * @param stepsToSuccess the first step whose periodic evaluation met the success criterion, or 0
 */
public record Outcome(Kind kind, String reason, long stepsToSuccess) {

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
     * @param nonFiniteStep  the step at which a non-finite loss or gradient stopped the run, or 0
     * @param nonFiniteWhat  what was non-finite ("loss", "gradient")
     * @param firstLoss      the first step's training loss
     * @param peakLoss       the largest finite training loss of the run
     * @param finalLoss      the mean training loss of the final window (NaN when stopped non-finite)
     * @param evaluation     the final held-out evaluation
     * @param stepsToSuccess the first evaluated step that met the criterion, or 0
     * @return the outcome
     */
    public static Outcome decide(long nonFiniteStep, String nonFiniteWhat, double firstLoss, double peakLoss,
            double finalLoss, Evaluation evaluation, long stepsToSuccess) {
        Criterion c = evaluation.criterion();
        if (nonFiniteStep > 0) {
            return new Outcome(Kind.DIVERGED, "non-finite " + nonFiniteWhat + " at step " + nonFiniteStep, 0);
        }
        if (evaluation.collapsed() && peakLoss >= Criterion.BLOW_UP * firstLoss) {
            return new Outcome(Kind.DIVERGED, evaluation.metric() + " " + num(evaluation.value())
                    + " has collapsed (" + c.collapseText() + ") after the loss rose from " + num(firstLoss) + " to "
                    + num(peakLoss), 0);
        }
        if (c.blownUp(finalLoss)) {
            return new Outcome(Kind.DIVERGED, String.format(Locale.ROOT,
                    "final loss %s is above %.0f times the trivial predictor's %s", num(finalLoss), Criterion.BLOW_UP,
                    num(c.trivialLoss())), 0);
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
