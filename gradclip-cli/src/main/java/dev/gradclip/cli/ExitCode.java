package dev.gradclip.cli;

/**
 * The exit codes of the {@code gradclip} command, in one place.
 *
 * <p>Scripts can rely on them: 0 means the command did what was asked, 2 that the input (a flag, a
 * spec, a task, a dataset, the output folder) was wrong and nothing was written, 3 that training met
 * a non-finite gradient under the default {@code +throw-nonfinite} policy.
 */
public final class ExitCode {

    /** The command did what was asked. */
    public static final int OK = 0;
    /** An unexpected failure (a bug or an I/O error during the run); the message says which. */
    public static final int FAILURE = 1;
    /** Bad input: unknown task, spec or flag, a bad value, a missing dataset, an unwritable folder. */
    public static final int USAGE = 2;
    /** A gradient held NaN or an infinity under {@code +throw-nonfinite}; the message names step and tensor. */
    public static final int NON_FINITE = 3;

    private ExitCode() {
    }
}
