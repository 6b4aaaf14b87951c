package dev.gradclip.cli;

import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.run.RunControl;
import dev.gradclip.faults.FaultInjector;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of {@code gradclip train} that make a run survive faults (a picocli mixin):
 * checkpoints, resuming a killed run, and fault injection.
 */
public final class FaultOptions {

    /** Mixed into the run seed so that the injected faults do not follow the data's random stream. */
    private static final long FAULT_SEED_SALT = 0x6661756C7473L;

    @Option(names = "--checkpoint-every", paramLabel = "N",
            description = "Write a checkpoint every N steps into DIR/checkpoints (atomically; the last two are"
                    + " kept), and one at the end. metrics.jsonl is then written in place so a killed run can"
                    + " continue with --resume.")
    Integer checkpointEvery;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue the killed or stopped run in DIR from its newest intact checkpoint, with the"
                    + " options it was started with (give no other option but --no-progress). The result is"
                    + " identical to a run never interrupted.")
    Path resume;

    @Option(names = "--inject-nonfinite", paramLabel = "RATE",
            description = "Fault injection: at each step, with probability RATE, one random gradient element"
                    + " becomes NaN, +inf or -inf (seeded by --seed). The summary counts how each was handled.")
    Double injectNonFinite;

    @Option(names = "--inject-spike", paramLabel = "RATE,SCALE",
            description = "Fault injection: at each step, with probability RATE, one random gradient tensor is"
                    + " multiplied by SCALE (e.g. 0.01,100).")
    String injectSpike;

    /**
     * Checks the values and builds the run's control.
     *
     * @param seed    the run's seed (the faults are seeded from it)
     * @param options the command-line options the run was started with
     * @param from    the checkpoint to resume from, or {@code null}
     * @return the control
     * @throws UsageException naming a value that is out of range or malformed
     */
    RunControl control(long seed, List<String> options, CheckpointStore.Loaded from) {
        if (checkpointEvery != null && checkpointEvery <= 0) {
            throw new UsageException("--checkpoint-every must be a positive whole number, got " + checkpointEvery);
        }
        FaultInjector.Builder faults = FaultInjector.builder().seed(seed ^ FAULT_SEED_SALT);
        if (injectNonFinite != null) {
            faults.nonFiniteRate(rate("--inject-nonfinite", injectNonFinite));
        }
        if (injectSpike != null) {
            String[] parts = injectSpike.split(",", -1);
            if (parts.length != 2) {
                throw new UsageException("--inject-spike takes RATE,SCALE (e.g. 0.01,100), got '" + injectSpike + "'");
            }
            double rate = rate("--inject-spike rate", number("--inject-spike rate", parts[0]));
            double scale = number("--inject-spike scale", parts[1]);
            if (!(scale > 0) || !Double.isFinite(scale)) {
                throw new UsageException("--inject-spike scale must be finite and > 0, got " + parts[1].strip());
            }
            faults.spike(rate, scale);
        }
        return RunControl.of(checkpointEvery == null ? 0 : checkpointEvery, faults.build(), options, from);
    }

    private static double rate(String name, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new UsageException(name + " must be in [0, 1], got " + value);
        }
        return value;
    }

    private static double number(String name, String text) {
        try {
            return Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a number, got '" + text.strip() + "'");
        }
    }
}
