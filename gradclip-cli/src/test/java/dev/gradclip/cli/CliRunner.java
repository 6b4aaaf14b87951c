package dev.gradclip.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the command in-process with captured writers. */
final class CliRunner {

    /**
     * @param exit the exit code
     * @param out  what went to standard output
     * @param err  what went to standard error
     */
    record Result(int exit, String out, String err) {
    }

    private CliRunner() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = GradclipCli.create(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
