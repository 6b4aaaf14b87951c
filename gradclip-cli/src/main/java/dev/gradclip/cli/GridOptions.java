package dev.gradclip.cli;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of the commands that train a fixed grid of workloads and methods over seeds
 * ({@code demo}, {@code lab}): the seeds, a factor on every workload's steps, and the held-out
 * samples per evaluation (a picocli mixin).
 */
public final class GridOptions {

    @Option(names = "--seeds", paramLabel = "SEEDS", defaultValue = "1-5",
            description = "Seeds of every method: a range 1-5, a list 1,2,7 or one seed (default ${DEFAULT-VALUE}).")
    String seeds;

    @Option(names = "--steps-scale", paramLabel = "F", defaultValue = "1",
            description = {"Multiplies every workload's training steps (default ${DEFAULT-VALUE}); below 1 for a quick"
                    + " look, whose outcomes then mean less."})
    double stepsScale;

    @Option(names = "--eval-samples", paramLabel = "N", defaultValue = "2000",
            description = "Fresh sequences or test images per evaluation (default ${DEFAULT-VALUE}).")
    int evalSamples;

    /**
     * Checks the options and parses the seeds, before anything is written.
     *
     * @return the seeds, in order
     * @throws UsageException naming the bad value
     */
    List<Long> validate() {
        if (!(stepsScale > 0 && stepsScale <= 100)) {
            throw new UsageException("--steps-scale must be above 0 and at most 100, got " + stepsScale);
        }
        if (evalSamples <= 0) {
            throw new UsageException("--eval-samples must be a positive whole number, got " + evalSamples);
        }
        return CompareCommand.parseSeeds(seeds);
    }

    /**
     * @param steps a workload's steps
     * @return them times {@code --steps-scale}, at least 1
     */
    int steps(int steps) {
        return Math.max(1, (int) Math.round(steps * stepsScale));
    }
}
