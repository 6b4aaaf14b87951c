package dev.gradclip.cli.run;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes {@code metrics.jsonl}, one JSON object per step, to a temporary file that becomes
 * {@code metrics.jsonl} only when {@link #commit()} is called, so an interrupted run leaves no
 * half-written metrics under the final name.
 *
 * <p>A run that writes checkpoints uses {@link #inPlace(OutputFolder, long)} instead: rows go
 * straight into {@code metrics.jsonl}, {@link #sync()} makes them durable at each checkpoint and
 * says how many bytes the checkpoint covers, and a resumed run cuts the file back to that length, so
 * the rows written after the last checkpoint are replaced and each step appears exactly once.
 */
public final class MetricsWriter implements AutoCloseable {

    /** The file name of the per-step metrics. */
    public static final String FILE = "metrics.jsonl";

    private final Path target;
    private final Path tmp;
    private final BufferedWriter out;
    private final FileChannel channel;
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
        this.channel = null;
    }

    private MetricsWriter(Path target, FileChannel channel) {
        this.target = target;
        this.tmp = null;
        this.channel = channel;
        this.out = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
    }

    /**
     * Opens {@code metrics.jsonl} of a checkpointed run for writing in place, keeping its first
     * {@code keep} bytes (the rows a checkpoint covers) and dropping the rest.
     *
     * @param folder the run's folder
     * @param keep   how many bytes to keep: 0 for a new run, the checkpoint's count when resuming
     * @return the writer
     * @throws UncheckedIOException if the file cannot be opened, or is shorter than {@code keep} or
     *                              does not end a row there (it was changed since the checkpoint)
     */
    public static MetricsWriter inPlace(OutputFolder folder, long keep) {
        Path target = folder.path().resolve(FILE);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            if (ch.size() < keep) {
                throw new IOException("it holds " + ch.size() + " bytes but the checkpoint covers " + keep
                        + "; it was changed after the checkpoint was written");
            }
            if (keep > 0) {
                java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
                ch.read(last, keep - 1);
                if (last.get(0) != '\n') {
                    throw new IOException("byte " + keep + " does not end a row; it was changed after the"
                            + " checkpoint was written");
                }
            }
            ch.truncate(keep);
            ch.position(keep);
            return new MetricsWriter(target, ch);
        } catch (IOException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the first error is the one to report
                }
            }
            throw new UncheckedIOException("cannot continue " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes every row written so far durable (in-place writers only).
     *
     * @return the number of bytes of the file those rows fill
     * @throws IllegalStateException if this writer is not in place
     * @throws UncheckedIOException  if the file cannot be written
     */
    public long sync() {
        if (channel == null) {
            throw new IllegalStateException("only an in-place metrics writer can be synced");
        }
        try {
            out.flush();
            channel.force(false);
            return channel.position();
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
            if (channel != null) {
                sync();
                out.close();
                done = true;
                return target;
            }
            out.close();
            OutputFolder.commit(tmp, target);
            done = true;
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the temporary file unless {@link #commit()} succeeded; an in-place file is kept as it
     * is, for a resume.
     */
    @Override
    public void close() {
        if (!done && channel != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // rows after the last checkpoint are rewritten by the resume anyway
            }
            return;
        }
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
