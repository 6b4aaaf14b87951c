package dev.gradclip.djl;

import dev.gradclip.ClipReport;

/**
 * What one training step of a {@link ClippedTrainer} did: its loss and its clip report.
 *
 * @param step    the step's number, counted from 0 by the helper that ran it
 * @param loss    the training loss of the batch (before the update), NaN or infinite when it diverged
 * @param report  the clipper's report (a {@link dev.gradclip.Clippers#none()} report for an unclipped
 *                loop: norms measured, nothing clipped)
 * @param skipped whether the update was skipped (parameters and optimizer state untouched, gradients
 *                cleared)
 */
public record StepResult(long step, double loss, ClipReport report, boolean skipped) {
}
