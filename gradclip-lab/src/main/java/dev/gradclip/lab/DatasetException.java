package dev.gradclip.lab;

/**
 * A dataset file that cannot be used: missing, unreadable, not of the expected format, truncated,
 * too large or too short. The message is one line naming the file, where in it the problem is (an
 * offset or a header field) and, where it helps, what to do (the package to install).
 *
 * <p>Applications map it to their own error reporting; the {@code gradclip} command prints the
 * message and exits with its usage exit code.
 */
public class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line naming the file and the problem
     */
    public DatasetException(String message) {
        super(message);
    }

    /**
     * @param message one line naming the file and the problem
     * @param cause   the underlying error
     */
    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
