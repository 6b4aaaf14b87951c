package dev.gradclip.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The output options shared by the commands that train (a picocli mixin).
 */
public final class OutputOptions {

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output folder (default: runs/<command>). Created if needed; files in it are replaced.")
    Path out;

    @Option(names = "--no-progress", description = "Do not draw progress bars (for logs and CI).")
    boolean noProgress;

    /**
     * @param command the command's name, for the default folder
     * @return the folder given, else {@code runs/<command>}
     */
    public Path folder(String command) {
        return out != null ? out : Path.of("runs", command);
    }
}
