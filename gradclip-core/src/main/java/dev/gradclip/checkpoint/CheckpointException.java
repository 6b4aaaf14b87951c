package dev.gradclip.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be used: empty, truncated, of another format or version, failing
 * its checksum, or holding inconsistent sizes. The message names the file and the reason.
 */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    /** @serial why the file cannot be used */
    private final String reason;

    /**
     * Creates the exception.
     *
     * @param file   the file (or directory) concerned
     * @param reason why it cannot be used, as a phrase ("truncated: ...")
     */
    public CheckpointException(Path file, String reason) {
        super("checkpoint " + file + " is unusable: " + reason);
        this.file = file;
        this.reason = reason;
    }

    /**
     * Creates an exception whose message is given whole (for summaries over several files).
     *
     * @param file    the directory or file concerned
     * @param reason  the reason
     * @param message the full message
     */
    CheckpointException(Path file, String reason, String message) {
        super(message);
        this.file = file;
        this.reason = reason;
    }

    /** @return the file (or directory) concerned */
    public Path file() {
        return file;
    }

    /** @return why it cannot be used, without the file name */
    public String reason() {
        return reason;
    }
}
