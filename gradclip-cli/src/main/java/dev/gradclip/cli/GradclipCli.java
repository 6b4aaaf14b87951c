package dev.gradclip.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

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
            c.getErr().println("gradclip: " + oneLine(inWords(ex)) + " (see '" + path + " --help')");
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
     * Puts picocli's parse errors in the user's words: a value of the wrong type says what the option
     * takes ("--seed must be a whole number, got 'x'", not "'x' is not a long"), an unknown option or
     * command suggests the nearest known one.
     *
     * @param ex the parse error
     * @return the message
     */
    static String inWords(CommandLine.ParameterException ex) {
        CommandLine c = ex.getCommandLine();
        String m = ex.getMessage() == null ? "" : ex.getMessage();
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().get(0);
            if (arg.startsWith("-")) {
                String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                List<String> options = new ArrayList<>();
                c.getCommandSpec().options().forEach(o -> options.addAll(List.of(o.names())));
                return "unknown option '" + name + "'" + NearMiss.hint(name, options);
            }
            if (!c.getSubcommands().isEmpty()) {
                List<String> commands = new ArrayList<>(c.getSubcommands().keySet());
                return "unknown command '" + arg + "'" + NearMiss.hint(arg, commands) + " (commands: "
                        + String.join(", ", commands) + ")";
            }
            return "unexpected argument '" + arg + "'";
        }
        ArgSpec a = ex.getArgSpec();
        if (a != null && m.startsWith("Invalid value for")) {
            String name = a.isOption() ? ((OptionSpec) a).longestName() : a.paramLabel();
            String value = ex.getValue();
            if (value == null) {
                java.util.regex.Matcher v = java.util.regex.Pattern.compile(": '(.*)' is not ").matcher(m);
                value = v.find() ? v.group(1) : "";
            }
            Class<?> t = a.type();
            String kind;
            if (t == int.class || t == long.class || t == Integer.class || t == Long.class || t == short.class) {
                kind = "a whole number";
            } else if (t == double.class || t == float.class || t == Double.class || t == Float.class) {
                kind = "a number";
            } else if (t.isEnum()) {
                List<String> values = new ArrayList<>();
                for (Object e : t.getEnumConstants()) {
                    values.add(e.toString().toLowerCase(java.util.Locale.ROOT));
                }
                return name + " must be one of " + String.join(", ", values) + ", got '" + value + "'"
                        + NearMiss.hint(value, values);
            } else if (t == boolean.class || t == Boolean.class) {
                kind = "true or false";
            } else {
                kind = "a " + a.paramLabel().toLowerCase(java.util.Locale.ROOT).replaceAll("[<>]", "");
            }
            return name + " must be " + kind + ", got '" + value + "'";
        }
        return m;
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
