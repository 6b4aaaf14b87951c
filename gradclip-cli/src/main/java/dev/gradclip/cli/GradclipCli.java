package dev.gradclip.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Builds the {@code gradclip} command line with the writers it prints to, so that tests run any
 * command in-process and read its output.
 *
 * <p>Errors become one line on the error writer and an {@link ExitCode}: picocli's parameter errors
 * (unknown flag, bad number, missing option) and {@link UsageException} give {@link ExitCode#USAGE},
 * {@link NonFiniteStepException} gives {@link ExitCode#NON_FINITE}, anything else
 * {@link ExitCode#FAILURE}. No stack trace is printed unless {@code -Dgradclip.debug=true}.
 */
public final class GradclipCli {

    private GradclipCli() {
    }

    /**
     * @param out where results and tables go
     * @param err where progress and errors go
     * @return the command line, ready to {@link CommandLine#execute execute}
     */
    public static CommandLine create(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new GradclipCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(110);
        for (String name : new String[] {"train", "compare", "suggest"}) {
            cl.getSubcommands().get(name).getCommandSpec().usageMessage().footer(SpecHelp.footer());
        }
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            String path = c.getCommandSpec().qualifiedName();
            c.getErr().println("gradclip: " + oneLine(ex.getMessage()) + " (see '" + path + " --help')");
            c.getErr().flush();
            return ExitCode.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            PrintWriter e = c.getErr();
            int code;
            if (ex instanceof UsageException || ex instanceof IllegalArgumentException) {
                e.println("gradclip: " + oneLine(ex.getMessage()));
                code = ExitCode.USAGE;
            } else if (ex instanceof NonFiniteStepException) {
                e.println("gradclip: " + oneLine(ex.getMessage()));
                code = ExitCode.NON_FINITE;
            } else if (ex instanceof UncheckedIOException) {
                e.println("gradclip: I/O error: " + oneLine(ex.getMessage()));
                code = ExitCode.FAILURE;
            } else {
                e.println("gradclip: internal error: " + ex + " (rerun with -Dgradclip.debug=true for the stack trace)");
                code = ExitCode.FAILURE;
            }
            if (Boolean.getBoolean("gradclip.debug")) {
                ex.printStackTrace(e);
            }
            e.flush();
            return code;
        });
        return cl;
    }

    /**
     * @param message a message, possibly several lines
     * @return its lines joined by "; "
     */
    static String oneLine(String message) {
        if (message == null) {
            return "(no message)";
        }
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
