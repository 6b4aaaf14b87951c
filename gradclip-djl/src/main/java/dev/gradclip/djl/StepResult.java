package dev.gradclip.djl;

import dev.gradclip.ClipReport;

/**
 * What one training step did: its loss and, when a clipper ran, its report.
 *
 * @param step    the step's number, counted from 0 by the helper that ran it
 * @param loss    the training loss of the batch (before the update), NaN or infinite when it diverged
 * @param report  the clipper's report, or {@code null} when no clipper was configured
 * @param skipped whether the update was skipped (parameters and optimizer state untouched, gradients
 *                cleared)
 */
public record StepResult(long step, double loss, ClipReport report, boolean skipped) {
}
