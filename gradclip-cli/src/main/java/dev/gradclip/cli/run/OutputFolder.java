package dev.gradclip.cli.run;

import dev.gradclip.cli.UsageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folder a command writes into. Every file is written to a temporary name in the same folder and
 * renamed into place, so a reader (or a crash) never sees a half-written file.
 */
public final class OutputFolder {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;

    private OutputFolder(Path dir) {
        this.dir = dir;
    }

    /** The file, in a folder a new run starts in, that names the run (see {@link #runId()}). */
    public static final String RUN_ID = ".gradclip-run";

    /** The files of a run's folder that show it holds a run; run sub-folders are found by them too. */
    private static final List<String> RUN_FILES = List.of("summary.json", "metrics.jsonl", "checkpoints");

    /**
     * The names gradclip writes into an output folder (files and, for {@code checkpoints}, the
     * folder); any other name makes {@code --overwrite} refuse to clear the folder.
     */
    private static final Pattern GRADCLIP_NAMES = Pattern.compile("summary\\.json|metrics\\.jsonl|report\\.html|lab\\.md"
            + "|progress\\.log|checkpoint-\\d{1,19}\\.gcp|\\.gradclip-run|\\..*\\.tmp");

    /**
     * Creates the folder if needed and checks that files can be written there, before any work starts.
     * A folder that already holds a run (a {@code summary.json}, {@code metrics.jsonl}, checkpoints or
     * run sub-folders) is refused unless {@code replace}; when replaced, gradclip's files in it are
     * deleted first, and a folder that also holds files gradclip did not write is refused all the same.
     *
     * @param dir     the folder
     * @param replace whether an earlier run in it may be replaced ({@code --overwrite}, or the
     *                command's default folder under {@code runs/})
     * @return the folder, empty of earlier runs
     * @throws UsageException naming the folder when it holds another run (and not {@code replace}),
     *                        holds files gradclip did not write, or cannot be created or written
     */
    public static OutputFolder prepare(Path dir, boolean replace) {
        return prepare(dir, replace, true);
    }

    /**
     * Creates the folder if needed and checks that files can be written there, keeping what it holds:
     * for adding a file (a report) beside a run's files.
     *
     * @param dir the folder
     * @return the folder
     * @throws UsageException naming the folder when it cannot be created or written
     */
    public static OutputFolder prepare(Path dir) {
        return prepare(dir, true, false);
    }

    private static OutputFolder prepare(Path dir, boolean replace, boolean fresh) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs) && !Files.isDirectory(abs)) {
                throw new UsageException("output folder " + dir + " is a file, not a folder; choose another --out");
            }
            if (fresh && Files.isDirectory(abs)) {
                List<String> held = runsIn(abs);
                if (!held.isEmpty()) {
                    if (!replace) {
                        throw new UsageException("output folder " + dir + " already holds a run ("
                                + String.join(", ", held) + "); pass --overwrite to replace it, or choose another --out");
                    }
                    Path foreign = foreign(abs);
                    if (foreign != null) {
                        throw new UsageException("will not clear output folder " + dir + ": it holds "
                                + abs.relativize(foreign) + ", which gradclip did not write; move it away or choose"
                                + " another --out");
                    }
                    clear(abs);
                }
            }
            Files.createDirectories(abs);
            Path probe = Files.createTempFile(abs, ".gradclip-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new UsageException("cannot write to output folder " + dir + " (" + reason(e)
                    + "); choose another --out");
        }
        return new OutputFolder(abs);
    }

    /**
     * The folder of a run being resumed, as it is: nothing is checked or cleared.
     *
     * @param dir the run's folder
     * @return the folder
     */
    public static OutputFolder existing(Path dir) {
        return new OutputFolder(dir.toAbsolutePath().normalize());
    }

    /**
     * @param dir a folder
     * @return what in it shows an earlier run ("summary.json", "checkpoints/", "2 run folders"),
     *         empty when none
     * @throws IOException if it cannot be listed
     */
    static List<String> runsIn(Path dir) throws IOException {
        List<String> held = new ArrayList<>();
        for (String f : RUN_FILES) {
            if (Files.exists(dir.resolve(f))) {
                held.add(Files.isDirectory(dir.resolve(f)) ? f + "/" : f);
            }
        }
        int subs = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path p : ds) {
                if (!RUN_FILES.contains(p.getFileName().toString()) && !runsIn(p).isEmpty()) {
                    subs++;
                }
            }
        }
        if (subs > 0) {
            held.add(subs + " run folder" + (subs == 1 ? "" : "s"));
        }
        return held;
    }

    /**
     * @return the first file under {@code dir} (a link counts as one, and is not followed) whose name
     *         gradclip does not write, or {@code null}; folders are gradclip's run folders or empty
     */
    private static Path foreign(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                            || !GRADCLIP_NAMES.matcher(p.getFileName().toString()).matches())
                    .sorted().findFirst().orElse(null);
        }
    }

    /** Deletes everything in {@code dir} (all of it gradclip's, checked by {@link #foreign}). */
    private static void clear(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> !p.equals(dir)).sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /**
     * Names the run that starts in this folder: a fresh random id written to {@value #RUN_ID}, which
     * the run's checkpoints carry too, so that {@code --resume} uses only checkpoints of this run.
     *
     * @return the id
     */
    public String newRunId() {
        String id = Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE);
        write(RUN_ID, id + "\n");
        return id;
    }

    /**
     * @return the id of the run started in this folder, or {@code null} when none is recorded (a
     *         folder written by an older gradclip)
     * @throws UncheckedIOException if the file exists but cannot be read
     */
    public String runId() {
        Path f = dir.resolve(RUN_ID);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return Files.readString(f, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private static String reason(Exception e) {
        String m = e.getClass().getSimpleName().replace("Exception", "");
        return (m.isEmpty() ? "error" : m) + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** @return the folder's path */
    public Path path() {
        return dir;
    }

    /**
     * @param name a sub-folder's name
     * @return the sub-folder, created
     * @throws UncheckedIOException if it cannot be created
     */
    public OutputFolder sub(String name) {
        Path p = dir.resolve(name);
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + p, e);
        }
        return new OutputFolder(p);
    }

    /**
     * Writes a text file atomically (temporary file, then rename).
     *
     * @param name the file's name in this folder
     * @param text the content (UTF-8)
     * @return the file's path
     * @throws UncheckedIOException if writing fails (the temporary file is removed)
     */
    public Path write(String name, String text) {
        Path target = dir.resolve(name);
        Path tmp = null;
        try {
            tmp = temporary(dir, name);
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW)) {
                w.write(text);
            }
            commit(tmp, target);
            return target;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * A fresh temporary name beside {@code name}, hidden (leading dot); unlike
     * {@link Files#createTempFile} it leaves the permissions to the umask, as the final file should.
     *
     * @param dir  the folder
     * @param name the final file's name
     * @return a name that does not exist yet
     */
    static Path temporary(Path dir, String name) {
        return dir.resolve("." + name + "." + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE) + ".tmp");
    }

    /**
     * Renames a finished temporary file into place, atomically where the file system allows.
     *
     * @param tmp    the temporary file
     * @param target the final name
     * @throws IOException if the rename fails
     */
    static void commit(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the temporary name starts with a dot; a leftover is harmless and overwritten next time
        }
    }
}
