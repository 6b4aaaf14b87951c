package dev.gradclip.cli.task;

/**
 * What a task uses when the command line does not say.
 *
 * @param steps        training steps
 * @param clip         clip spec
 * @param optimizer    optimizer spec
 * @param learningRate learning rate when the optimizer spec gives none
 * @param lossWindow   how many of the last steps' losses {@code final_loss} averages (1 for a
 *                     deterministic task; more for minibatch noise)
 */
public record TaskDefaults(int steps, String clip, String optimizer, double learningRate, int lossWindow) {
}
