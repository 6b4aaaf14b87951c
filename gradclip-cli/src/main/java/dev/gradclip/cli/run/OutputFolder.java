package dev.gradclip.cli.run;

import dev.gradclip.cli.UsageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

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

    /**
     * Creates the folder if needed and checks that files can be written there, before any work starts.
     *
     * @param dir the folder
     * @return the folder
     * @throws UsageException naming the folder when it cannot be created or written
     */
    public static OutputFolder prepare(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs) && !Files.isDirectory(abs)) {
                throw new UsageException("output folder " + dir + " is a file, not a folder; choose another --out");
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
