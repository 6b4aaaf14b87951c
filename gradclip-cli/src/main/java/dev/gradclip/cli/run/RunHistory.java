package dev.gradclip.cli.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The history of a run, what the {@link RunLoop} has gathered so far (the terminal's progress bar is
 * {@link ProgressDisplay}): per-step losses, gradient norms and layer
 * norms (for the final loss, the divergence test and the layer health in the summary) and the step
 * counters.
 *
 * <p>For a checkpointed run the per-step series also go to an append-only log beside the
 * checkpoints ({@link #openLog(Path, long, int)}), one fixed-size record per step, so that a
 * checkpoint holds only the counters and how many log bytes (with their CRC32C) it covers: writing a
 * checkpoint costs the same at step 100 as at step 100,000.
 */
final class RunHistory {

    /** The log's file name in the checkpoint folder. */
    static final String LOG = "progress.log";

    private static final int MAGIC = 0x52505247; // "RPRG"
    private static final int VERSION = 2;
    private static final int COUNTER_BYTES = 4 * 4 + 8 * 8 + 1;

    final double[] losses;
    final double[] gradNorms;
    /** The held-out metric of each step that was evaluated, NaN for the others. */
    final double[] evals;
    final double[][] layerNorms;
    int done;
    long clipped;
    long skipped;
    double firstLoss = Double.NaN;
    boolean diverged;
    long divergedAt;

    private FileChannel log;
    private ByteBuffer pending;
    private final CRC32C crc = new CRC32C();
    private long logBytes;

    /**
     * @param steps  the planned steps
     * @param layers the number of layers
     */
    RunHistory(int steps, int layers) {
        this.losses = new double[steps];
        this.gradNorms = new double[steps];
        this.evals = new double[steps];
        java.util.Arrays.fill(evals, Double.NaN);
        this.layerNorms = new double[layers][steps];
    }

    private int recordBytes() {
        return (3 + layerNorms.length) * Double.BYTES;
    }

    /**
     * Starts logging every recorded step to {@code file}, keeping its first {@code keepBytes} bytes
     * and reading the first {@code keepSteps} records back into the series (a resume).
     *
     * @param file      the log
     * @param keepBytes the bytes a checkpoint covers (0 for a new run)
     * @param keepSteps the steps those bytes hold
     * @throws UncheckedIOException if the log cannot be opened or is shorter than the checkpoint says
     */
    void openLog(Path file, long keepBytes, int keepSteps) {
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            log = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (keepBytes != (long) keepSteps * recordBytes() || keepSteps > losses.length) {
                throw new IOException("the checkpoint covers " + keepBytes + " bytes for " + keepSteps
                        + " steps, which does not fit records of " + recordBytes() + " bytes");
            }
            if (log.size() < keepBytes) {
                throw new IOException("it holds " + log.size() + " bytes but the checkpoint covers " + keepBytes);
            }
            ByteBuffer in = ByteBuffer.allocate((int) keepBytes);
            while (in.hasRemaining() && log.read(in, in.position()) > 0) {
                // positional reads until the buffer is full
            }
            in.flip();
            crc.update(in.duplicate());
            for (int i = 0; i < keepSteps; i++) {
                losses[i] = in.getDouble();
                gradNorms[i] = in.getDouble();
                evals[i] = in.getDouble();
                for (double[] layer : layerNorms) {
                    layer[i] = in.getDouble();
                }
            }
            log.truncate(keepBytes);
            log.position(keepBytes);
            logBytes = keepBytes;
            pending = ByteBuffer.allocate(recordBytes() * 256);
        } catch (IOException | BufferUnderflowException e) {
            throw new UncheckedIOException("cannot continue " + file + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }

    /**
     * Records one completed step.
     *
     * @param loss       its loss
     * @param gradNorm   its pre-clip gradient norm
     * @param layerNorm  its per-layer norms
     * @param wasClipped whether it was clipped
     * @param wasSkipped whether it was skipped
     * @param eval       the held-out metric after it, or NaN when it was not evaluated
     */
    void record(double loss, double gradNorm, double[] layerNorm, boolean wasClipped, boolean wasSkipped,
            double eval) {
        losses[done] = loss;
        gradNorms[done] = gradNorm;
        evals[done] = eval;
        for (int l = 0; l < layerNorms.length; l++) {
            layerNorms[l][done] = layerNorm[l];
        }
        if (done == 0) {
            firstLoss = loss;
        }
        done++;
        clipped += wasClipped ? 1 : 0;
        skipped += wasSkipped ? 1 : 0;
        if (log != null) {
            if (pending.remaining() < recordBytes()) {
                flushLog();
            }
            pending.putDouble(loss).putDouble(gradNorm).putDouble(eval);
            for (int l = 0; l < layerNorms.length; l++) {
                pending.putDouble(layerNorm[l]);
            }
        }
    }

    private void flushLog() {
        pending.flip();
        crc.update(pending.duplicate());
        try {
            while (pending.hasRemaining()) {
                logBytes += log.write(pending);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the progress log: " + e.getMessage(), e);
        }
        pending.clear();
    }

    /**
     * Makes the log durable and returns the counters with what the log holds, for a checkpoint.
     *
     * @return the state
     */
    byte[] save() {
        long bytes = 0;
        long checksum = 0;
        if (log != null) {
            flushLog();
            try {
                log.force(false);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the progress log: " + e.getMessage(), e);
            }
            bytes = logBytes;
            checksum = crc.getValue();
        }
        return ByteBuffer.allocate(COUNTER_BYTES)
                .putInt(MAGIC).putInt(VERSION).putInt(layerNorms.length).putInt(done)
                .putLong(clipped).putLong(skipped).putDouble(firstLoss).putLong(divergedAt).putLong(losses.length)
                .putLong(bytes).putLong(checksum).putLong(0L)
                .put((byte) (diverged ? 1 : 0)).array();
    }

    /**
     * Restores the counters saved by {@link #save()} and reads the series back from the log.
     *
     * @param state   the saved state
     * @param logFile the log
     * @throws IllegalArgumentException if the state is corrupt or belongs to another run, or the log
     *                                  does not match it
     */
    void restore(byte[] state, Path logFile) {
        ByteBuffer b = ByteBuffer.wrap(state);
        int layers;
        int n;
        long newClipped;
        long newSkipped;
        double newFirst;
        long newDivergedAt;
        long steps;
        long bytes;
        long checksum;
        boolean newDiverged;
        try {
            if (state.length != COUNTER_BYTES || b.getInt() != MAGIC) {
                throw new IllegalArgumentException("the checkpoint's progress section is not a gradclip run's");
            }
            int version = b.getInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("the checkpoint's progress section has version " + version
                        + ", this gradclip reads version " + VERSION + ": resume it with the gradclip that wrote it,"
                        + " or start the run again");
            }
            layers = b.getInt();
            n = b.getInt();
            newClipped = b.getLong();
            newSkipped = b.getLong();
            newFirst = b.getDouble();
            newDivergedAt = b.getLong();
            steps = b.getLong();
            bytes = b.getLong();
            checksum = b.getLong();
            b.getLong();
            newDiverged = b.get() == 1;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("the checkpoint's progress section is truncated", e);
        }
        if (layers != layerNorms.length || steps != losses.length) {
            throw new IllegalArgumentException("the checkpoint is of a run with " + steps + " steps and " + layers
                    + " layers, not " + losses.length + " and " + layerNorms.length);
        }
        if (n < 0 || n > steps || newClipped < 0 || newSkipped < 0 || newClipped > n || newSkipped > n) {
            throw new IllegalArgumentException("the checkpoint's progress section is corrupt");
        }
        openLog(logFile, bytes, n);
        if (crc.getValue() != checksum) {
            throw new IllegalArgumentException(logFile + " does not match the checkpoint (CRC32C "
                    + Long.toHexString(crc.getValue()) + ", expected " + Long.toHexString(checksum)
                    + "): it was changed after the checkpoint was written");
        }
        done = n;
        clipped = newClipped;
        skipped = newSkipped;
        firstLoss = newFirst;
        diverged = newDiverged;
        divergedAt = newDivergedAt;
    }

    /** Closes the log, if any; what was not saved is rewritten by a resume. */
    void closeLog() {
        if (log != null) {
            try {
                log.close();
            } catch (IOException ignored) {
                // nothing depends on bytes after the last checkpoint
            }
            log = null;
        }
    }
}
