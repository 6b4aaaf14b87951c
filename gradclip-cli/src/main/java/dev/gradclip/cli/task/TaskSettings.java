package dev.gradclip.cli.task;

import java.nio.file.Path;

/**
 * The options of a run that tasks read; {@code null} means "the task's default".
 *
 * @param seed        the random seed: same seed, same numbers
 * @param steps       training steps
 * @param x0          quadratic: the start value
 * @param length      sequence tasks: the sequence length T
 * @param hidden      hidden units
 * @param init        sequence tasks: weight initialisation
 * @param batch       minibatch size
 * @param data        fashion-mnist: the folder holding the IDX files
 * @param text        char-lm: the text file
 * @param evalSamples how many fresh samples the evaluation uses
 */
public record TaskSettings(long seed, int steps, Double x0, Integer length, Integer hidden, String init, Integer batch,
        Path data, Path text, Integer evalSamples) {

    /**
     * @param seed  the seed
     * @param steps the steps
     * @return settings with every task option at its default
     */
    public static TaskSettings defaults(long seed, int steps) {
        return new TaskSettings(seed, steps, null, null, null, null, null, null, null, null);
    }

    /**
     * @param newSeed another seed
     * @return these settings with that seed
     */
    public TaskSettings withSeed(long newSeed) {
        return new TaskSettings(newSeed, steps, x0, length, hidden, init, batch, data, text, evalSamples);
    }

    /**
     * @param newSteps another step count
     * @return these settings with that step count
     */
    public TaskSettings withSteps(int newSteps) {
        return new TaskSettings(seed, newSteps, x0, length, hidden, init, batch, data, text, evalSamples);
    }
}
