package dev.gradclip.cli;

import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.ProgressDisplay;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The output options shared by the commands that train (a picocli mixin).
 */
public final class OutputOptions {

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output folder (default: runs/<command>, replaced on each run). Created if needed; a"
                    + " folder that holds another run is refused unless --overwrite.")
    Path out;

    @Option(names = "--overwrite",
            description = "Replace the run already in --out: gradclip's files there are deleted first (a folder that"
                    + " also holds other files is refused).")
    boolean overwrite;

    @Option(names = "--no-progress", description = "Do not show progress (for logs and CI).")
    boolean noProgress;

    /**
     * @param command the command's name, for the default folder
     * @return the folder given, else {@code runs/<command>}
     */
    public Path folder(String command) {
        return out != null ? out : Path.of("runs", command);
    }

    /**
     * Prepares the output folder: {@code --out} when given (a run already there is replaced only with
     * {@code --overwrite}), else {@code runs/<command>}, whose earlier run is replaced.
     *
     * @param command the command's name, for the default folder
     * @return the folder, empty of earlier runs
     * @throws UsageException if the folder holds another run, or cannot be written
     */
    public OutputFolder prepare(String command) {
        return OutputFolder.prepare(folder(command), out == null || overwrite);
    }

    /**
     * @param err the error stream
     * @return how progress is shown: none with {@code --no-progress}, else {@link ProgressDisplay#auto}
     */
    public ProgressDisplay.Factory progress(PrintWriter err) {
        return noProgress ? ProgressDisplay.none() : ProgressDisplay.auto(err);
    }
}
