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
        // DJL and PyTorch log at INFO through SLF4J; the command's own output is enough
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // the lab's models are small: one PyTorch thread runs them about three times faster than two
        // threads contending for two cores (200 RNN steps: 3.9 s against 12.4 s), and the same every time
        for (String p : new String[] {"ai.djl.pytorch.num_threads", "ai.djl.pytorch.num_interop_threads"}) {
            if (System.getProperty(p) == null) {
                System.setProperty(p, "1");
            }
        }
        // on a machine without a GPU DJL warns that it found none; that is the expected case here
        if (System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
        }
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = GradclipCli.create(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
