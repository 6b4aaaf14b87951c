package dev.gradclip.optim;

import dev.gradclip.ClipReport;

/**
 * What one {@link TrainingStep#update} did: the clipping report and whether the optimizer step was
 * applied.
 *
 * @param step           the number of this call, starting at 0 (skipped calls count)
 * @param applied        whether the parameters were updated; {@code false} when the clipper asked to
 *                       skip (non-finite gradients under {@code SKIP}, or a spike guard), in which
 *                       case parameters and optimizer state are exactly as before the call
 * @param learningRate   the learning rate used, or NaN when the step was not applied
 * @param optimizerSteps the optimizer's step count after this call
 * @param clip           the clipper's report (pre-clip norm, coefficient, threshold, …)
 */
public record StepReport(long step, boolean applied, double learningRate, long optimizerSteps, ClipReport clip) {

    /** @return whether the step was skipped, {@code !applied()} */
    public boolean skipped() {
        return !applied;
    }

    /** @return whether the clipper changed the gradients */
    public boolean clipped() {
        return clip.clipped();
    }

    /** @return the global gradient norm before clipping, {@code clip().normBefore()} */
    public double gradientNorm() {
        return clip.normBefore();
    }
}
