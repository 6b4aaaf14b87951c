package dev.gradclip.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The entry point of the {@code gradclip} command (run by the {@code ./gradclip} launcher).
 */
public final class Main {

    private Main() {
    }

    /**
     * Runs the command and exits with its {@link ExitCode}.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = GradclipCli.create(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
