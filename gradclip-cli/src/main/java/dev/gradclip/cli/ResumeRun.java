package dev.gradclip.cli;

import dev.gradclip.checkpoint.Checkpoint;
import dev.gradclip.checkpoint.CheckpointException;
import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.RunControl;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code gradclip train --resume DIR}: finds the newest intact checkpoint of the run in {@code DIR}
 * (passing over damaged ones with a warning), rebuilds the {@code train} command from the options
 * the run was started with, and continues it in {@code DIR}.
 */
final class ResumeRun {

    private static final Set<String> ALLOWED = Set.of("--resume", "--no-progress");

    private ResumeRun() {
    }

    /**
     * @param given the command as given ({@code --resume DIR}, perhaps {@code --no-progress})
     * @param dir   the run's folder
     * @return the exit code
     * @throws UsageException if other options were given, or there is no usable checkpoint in
     *                        {@code DIR}
     */
    static int resume(TrainCommand given, Path dir) {
        CommandLine cl = given.spec.commandLine();
        for (OptionSpec o : cl.getParseResult().matchedOptions()) {
            if (!ALLOWED.contains(o.longestName())) {
                throw new UsageException("--resume continues a run with the options it was started with; do not"
                        + " give " + o.longestName());
            }
        }
        Path checkpoints = dir.resolve(RunControl.CHECKPOINTS);
        if (!Files.isDirectory(checkpoints)) {
            throw new UsageException("cannot resume " + dir + ": it has no " + RunControl.CHECKPOINTS
                    + " folder (start runs with --checkpoint-every N to be able to resume them)");
        }
        CheckpointStore.Loaded loaded = latestOfRun(dir, checkpoints);
        PrintWriter err = cl.getErr();
        for (String m : loaded.messages()) {
            err.println("gradclip: warning: " + m);
        }
        List<String> options = RunControl.options(loaded.checkpoint());
        TrainCommand original = new TrainCommand();
        CommandLine again = new CommandLine(original);
        again.setOut(cl.getOut());
        again.setErr(err);
        again.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            again.parseArgs(options.toArray(new String[0]));
        } catch (CommandLine.ParameterException e) {
            throw new UsageException("cannot resume " + dir + ": the options saved in " + loaded.file()
                    + " are not valid for this version of gradclip (" + e.getMessage() + ")");
        }
        original.output.out = dir;
        original.output.noProgress |= given.output.noProgress;
        err.println("gradclip: resuming " + dir + " after step " + loaded.checkpoint().step() + " from "
                + loaded.file().getFileName() + ", with the options it was started with: "
                + String.join(" ", options));
        err.flush();
        return original.run(loaded, options);
    }

    /**
     * The newest intact checkpoint of the run whose files are in {@code dir}: one that names the id in
     * the folder's {@value OutputFolder#RUN_ID}. Checkpoints of another run (left by an earlier run,
     * or copied in) are passed over; a folder without an id (an older gradclip) takes its newest
     * checkpoint that names no run.
     *
     * @param dir         the run's folder
     * @param checkpoints its checkpoint folder
     * @return the checkpoint
     * @throws UsageException if there is none
     */
    static CheckpointStore.Loaded latestOfRun(Path dir, Path checkpoints) {
        String id = OutputFolder.existing(dir).runId();
        List<String> passedOver = new ArrayList<>();
        int foreign = 0;
        List<Path> files;
        try {
            files = CheckpointStore.in(checkpoints).files();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoints + ": " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new UsageException("cannot resume " + dir + ": " + checkpoints + " holds no checkpoint");
        }
        for (Path f : files) {
            Checkpoint c;
            try {
                c = CheckpointStore.read(f);
            } catch (CheckpointException e) {
                passedOver.add(e.getMessage());
                continue;
            } catch (IOException e) {
                passedOver.add("checkpoint " + f + " is unusable: cannot be read (" + e + ")");
                continue;
            }
            if (!Objects.equals(RunControl.runOf(c), id)) {
                foreign++;
                continue;
            }
            return new CheckpointStore.Loaded(c, f, passedOver);
        }
        if (foreign > 0) {
            throw new UsageException("cannot resume " + dir + ": " + (foreign == 1 ? "its checkpoint is" : "its "
                    + foreign + " checkpoints are") + " of another run than the one in " + dir
                    + (passedOver.isEmpty() ? "" : " (and " + passedOver.size() + " damaged)")
                    + "; start the run again with --overwrite");
        }
        throw new UsageException("cannot resume " + dir + ": no usable checkpoint in " + checkpoints + ": "
                + String.join("; ", passedOver));
    }
}
