package dev.gradclip.cli.run;

/**
 * Whether the error stream is a terminal, and how wide: progress bars are drawn only on one.
 *
 * <p>{@link System#console()} answers for standard input and output, not for the error stream the
 * progress goes to ({@code ./gradclip demo 2> log} has a console), so the {@code ./gradclip} launcher
 * tests the error stream itself ({@code [ -t 2 ]}) and passes {@code -Dgradclip.tty=true|false} and
 * the width ({@code tput cols}) as {@code -Dgradclip.columns=N}. Run without the launcher, the error
 * stream counts as a terminal only when there is a console, and the width is {@code $COLUMNS}, else 80.
 */
public final class Terminal {

    /** The system property the launcher sets to {@code true} when standard error is a terminal. */
    public static final String TTY = "gradclip.tty";
    /** The system property the launcher sets to the terminal's width. */
    public static final String COLUMNS = "gradclip.columns";

    private Terminal() {
    }

    /** @return whether standard error is a terminal */
    public static boolean isTerminal() {
        String tty = System.getProperty(TTY);
        if (tty != null) {
            return Boolean.parseBoolean(tty.strip());
        }
        return System.console() != null;
    }

    /** @return the terminal's width in columns: {@code gradclip.columns}, else {@code $COLUMNS}, else 80 */
    public static int columns() {
        for (String v : new String[] {System.getProperty(COLUMNS), System.getenv("COLUMNS")}) {
            if (v != null) {
                try {
                    int c = Integer.parseInt(v.strip());
                    if (c > 0) {
                        return c;
                    }
                } catch (NumberFormatException ignored) {
                    // not a width: try the next source
                }
            }
        }
        return 80;
    }
}
