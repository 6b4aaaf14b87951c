package dev.gradclip.cli.run;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes {@code metrics.jsonl}, one JSON object per step, to a temporary file that becomes
 * {@code metrics.jsonl} only when {@link #commit()} is called, so an interrupted run leaves no
 * half-written metrics under the final name.
 */
public final class MetricsWriter implements AutoCloseable {

    /** The file name of the per-step metrics. */
    public static final String FILE = "metrics.jsonl";

    private final Path target;
    private final Path tmp;
    private final BufferedWriter out;
    private boolean done;

    /**
     * @param folder the run's folder
     * @throws UncheckedIOException if the temporary file cannot be created
     */
    public MetricsWriter(OutputFolder folder) {
        this.target = folder.path().resolve(FILE);
        try {
            this.tmp = OutputFolder.temporary(folder.path(), FILE);
            this.out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param row one step's metrics (a map), written as one line
     */
    public void write(Object row) {
        try {
            out.write(Json.line(row));
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Closes the file and renames it to {@code metrics.jsonl}.
     *
     * @return the final path
     */
    public Path commit() {
        try {
            out.close();
            OutputFolder.commit(tmp, target);
            done = true;
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Removes the temporary file unless {@link #commit()} succeeded. */
    @Override
    public void close() {
        if (!done) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the file is deleted next
            }
            OutputFolder.deleteQuietly(tmp);
        }
    }
}
