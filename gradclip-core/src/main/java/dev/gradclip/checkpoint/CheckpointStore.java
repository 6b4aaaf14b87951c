package dev.gradclip.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checkpoints of one run, in one directory, written so that a crash at any moment leaves the
 * last complete checkpoint readable, and read so that a damaged one is detected and the one before
 * it used.
 *
 * <p>Writing ({@link #save(Checkpoint)}): the checkpoint is written to a temporary file in the same
 * directory, forced to the device ({@link FileChannel#force(boolean)}), renamed over its final name
 * with {@link StandardCopyOption#ATOMIC_MOVE}, and the directory is forced so that the rename
 * itself survives a power loss (where the platform allows opening a directory; it does on Linux
 * and macOS). Then older checkpoints beyond the last {@link #keep()} are deleted, and so are any
 * checkpoints of later steps than the one saved: those belong to a run that was resumed from an
 * earlier point and are now stale. Files are named {@code checkpoint-<step>.gcp}.
 *
 * <p>Reading ({@link #loadLatest()}): the newest file is read and checked (magic bytes, format
 * version, declared length against the real size, CRC32C checksum, every section size); if it is
 * unusable, the previous one is tried, and the result says which files were passed over and why.
 *
 * <p>One writer per directory: a temporary file left by a killed writer is deleted by the next
 * {@link #save(Checkpoint)}.
 */
public final class CheckpointStore {

    /** How many checkpoints are kept by default: the newest and the one before it. */
    public static final int DEFAULT_KEEP = 2;

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,19})\\.gcp");
    private static final String TEMP_PREFIX = ".checkpoint-";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final Path directory;
    private final int keep;

    private CheckpointStore(Path directory, int keep) {
        this.directory = directory;
        this.keep = keep;
    }

    /**
     * A store keeping the last {@value #DEFAULT_KEEP} checkpoints.
     *
     * @param directory the directory; created on the first save if missing
     * @return the store
     */
    public static CheckpointStore in(Path directory) {
        return in(directory, DEFAULT_KEEP);
    }

    /**
     * A store keeping the last {@code keep} checkpoints.
     *
     * @param directory the directory; created on the first save if missing
     * @param keep      how many checkpoints to keep, ≥ 1 (2 or more lets a damaged newest one fall
     *                  back to the previous)
     * @return the store
     * @throws IllegalArgumentException if {@code keep < 1}
     */
    public static CheckpointStore in(Path directory, int keep) {
        Objects.requireNonNull(directory, "directory");
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        return new CheckpointStore(directory, keep);
    }

    /** @return the directory */
    public Path directory() {
        return directory;
    }

    /** @return how many checkpoints are kept */
    public int keep() {
        return keep;
    }

    /**
     * @param step a step
     * @return the path a checkpoint of that step has in this store
     */
    public Path fileFor(long step) {
        return directory.resolve(String.format("checkpoint-%08d.gcp", step));
    }

    /**
     * Writes a checkpoint atomically and durably, then prunes: afterwards the directory holds this
     * checkpoint and at most {@code keep - 1} older ones, and none of a later step.
     *
     * @param checkpoint the checkpoint
     * @return the file written
     * @throws IOException if it cannot be written; the previous checkpoints are then untouched
     */
    public Path save(Checkpoint checkpoint) throws IOException {
        Objects.requireNonNull(checkpoint, "checkpoint");
        byte[] bytes = CheckpointFormat.encode(checkpoint);
        Files.createDirectories(directory);
        deleteStaleTemporaries();
        Path target = fileFor(checkpoint.step());
        // not Files.createTempFile: its owner-only permissions would differ from the run's other files
        Path temp = directory.resolve(TEMP_PREFIX + checkpoint.step() + "-"
                + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE) + TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE,
                    StandardOpenOption.CREATE_NEW)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write checkpoint " + target + ": the file system of " + directory
                        + " does not support atomic renames, so a crash could leave a half-written checkpoint", e);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        forceDirectory();
        prune(checkpoint.step());
        return target;
    }

    /**
     * Deletes every checkpoint and temporary file of this store (for a new run in a folder that held
     * another); other files in the directory are left alone.
     *
     * @throws IOException if a file cannot be deleted
     */
    public void clear() throws IOException {
        if (!Files.isDirectory(directory)) {
            return;
        }
        deleteStaleTemporaries();
        for (Path f : files()) {
            Files.deleteIfExists(f);
        }
    }

    /**
     * Lists the checkpoint files, newest (highest step) first, by their names only; their contents
     * are not read.
     *
     * @return the files; empty if the directory does not exist
     * @throws IOException if the directory cannot be listed
     */
    public List<Path> files() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            for (Path p : ds) {
                if (stepOf(p) >= 0 && Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(CheckpointStore::stepOf).reversed());
        return out;
    }

    /**
     * Loads the newest usable checkpoint, passing over damaged ones.
     *
     * @return the checkpoint with its file and the files passed over; empty if there is no
     *         checkpoint file at all
     * @throws CheckpointException if there are checkpoint files but none is usable (the message
     *                             lists every file and why)
     * @throws IOException         if the directory cannot be listed
     */
    public Optional<Loaded> loadLatest() throws IOException {
        List<Path> files = files();
        if (files.isEmpty()) {
            return Optional.empty();
        }
        List<String> passedOver = new ArrayList<>();
        for (Path f : files) {
            try {
                Checkpoint c = read(f);
                return Optional.of(new Loaded(c, f, passedOver));
            } catch (CheckpointException e) {
                passedOver.add(e.getMessage());
            } catch (IOException e) {
                passedOver.add("checkpoint " + f + " is unusable: cannot be read (" + e + ")");
            }
        }
        throw new CheckpointException(directory, "no usable checkpoint",
                "no usable checkpoint in " + directory + ": " + String.join("; ", passedOver));
    }

    /**
     * Reads and checks one checkpoint file; when its name is {@code checkpoint-<step>.gcp}, the step
     * inside must match.
     *
     * @param file the file
     * @return the checkpoint
     * @throws CheckpointException if it is missing, empty, truncated, of another format or version,
     *                             fails its checksum, or its sizes are inconsistent
     * @throws IOException         if it cannot be read
     */
    public static Checkpoint read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Checkpoint c = CheckpointFormat.read(file);
        long named = stepOf(file);
        if (named >= 0 && named != c.step()) {
            throw new CheckpointException(file, "its name says step " + named + " but it holds step " + c.step());
        }
        return c;
    }

    private void prune(long savedStep) throws IOException {
        int kept = 0;
        for (Path f : files()) {
            long step = stepOf(f);
            if (step > savedStep || ++kept > keep) {
                Files.deleteIfExists(f);
            }
        }
    }

    private void deleteStaleTemporaries() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory, TEMP_PREFIX + "*" + TEMP_SUFFIX)) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void forceDirectory() {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows cannot open a directory; its rename is durable once the file is forced
        }
    }

    private static long stepOf(Path file) {
        Path name = file.getFileName();
        if (name == null) {
            return -1;
        }
        Matcher m = NAME.matcher(name.toString());
        if (!m.matches()) {
            return -1;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public String toString() {
        return "CheckpointStore[" + directory + ", keep " + keep + "]";
    }

    /**
     * A checkpoint loaded by {@link #loadLatest()}.
     *
     * @param checkpoint the checkpoint
     * @param file       the file it came from
     * @param passedOver one message per newer file that was unusable (naming the file and why),
     *                   newest first; empty when the newest file was good
     */
    public record Loaded(Checkpoint checkpoint, Path file, List<String> passedOver) {
        /**
         * Makes the result, copying the list.
         *
         * @param checkpoint the checkpoint
         * @param file       the file it came from
         * @param passedOver one message per newer file that was unusable, newest first
         */
        public Loaded {
            Objects.requireNonNull(checkpoint, "checkpoint");
            Objects.requireNonNull(file, "file");
            passedOver = List.copyOf(passedOver);
        }

        /** @return whether newer, damaged checkpoints were passed over to load this one */
        public boolean fellBack() {
            return !passedOver.isEmpty();
        }

        /**
         * @return one line per file passed over, each ending with which checkpoint was used instead,
         *         for printing to the user
         */
        public List<String> messages() {
            List<String> out = new ArrayList<>();
            for (String m : passedOver) {
                out.add(m + "; using the previous checkpoint");
            }
            if (!out.isEmpty()) {
                int last = out.size() - 1;
                out.set(last, passedOver.get(last) + "; using " + file.getFileName() + " (step "
                        + checkpoint.step() + ") instead");
            }
            return out;
        }
    }
}
