package dev.gradclip.cli;

/**
 * Bad input from the user: the command prints the message as one line and exits with
 * {@link ExitCode#USAGE}, having written nothing.
 */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line naming the problem and, where it helps, the fix
     */
    public UsageException(String message) {
        super(message);
    }

    /**
     * @param message one line naming the problem
     * @param cause   the underlying error
     */
    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
