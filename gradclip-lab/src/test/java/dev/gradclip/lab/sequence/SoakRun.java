package dev.gradclip.lab.sequence;

import ai.djl.ndarray.NDManager;
import ai.djl.engine.Engine;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A soak check for native-memory leaks: trains the tanh RNN on the adding problem with clipping for
 * many steps and prints the process's resident memory ({@code VmRSS} from {@code /proc/self/status})
 * and the number of NDArrays still open (in every manager of the engine), every so many steps. After warm-up both must stay flat:
 * every NDArray the clippers and the loop create is closed.
 *
 * <p>Usage (from the repository root, after {@code ./mvnw -pl gradclip-lab -am test-compile}; it is
 * in the test sources, not in the library jar, and {@code target/classpath.txt} is the test class
 * path, which holds the PyTorch engine):
 * <pre>
 * java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 \
 *      -cp "$(cat gradclip-lab/target/classpath.txt):gradclip-lab/target/classes:gradclip-lab/target/test-classes" \
 *      dev.gradclip.lab.sequence.SoakRun [steps] [every] [clipper]
 * </pre>
 * The fixed, pre-touched Java heap keeps the heap's share of resident memory constant from the
 * start, so that what grows is native memory.
 * with {@code steps} default 20,000, {@code every} default 1,000 and {@code clipper} one of
 * {@code global-norm} (default, at 1.0), {@code value} (0.01), {@code agc} (0.05) or {@code mixed}
 * (the three in turn, plus the ZERO policy on an injected NaN every 100 steps).
 *
 * <p>Output: one line per report, {@code step rss_mib open_ndarrays loss}, then a summary with the
 * growth of resident memory between the first report after warm-up and the last.
 */
public final class SoakRun {

    private SoakRun() {
    }

    /**
     * Runs the soak.
     *
     * @param args {@code [steps] [every] [clipper]}
     * @throws IOException if {@code /proc/self/status} cannot be read
     */
    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int every = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        String mode = args.length > 2 ? args[2] : "global-norm";
        if (steps < 1 || every < 1) {
            throw new IllegalArgumentException("steps and every must be >= 1, got " + steps + " and " + every);
        }
        PrintStream out = System.out;
        Clipper[] clippers = switch (mode) {
            case "global-norm" -> new Clipper[] {Clippers.globalNorm(1.0)};
            case "value" -> new Clipper[] {Clippers.value(0.01)};
            case "agc" -> new Clipper[] {Clippers.agc(0.05)};
            case "mixed" -> new Clipper[] {Clippers.globalNorm(1.0), Clippers.value(0.01), Clippers.agc(0.05),
                Clippers.groupNorm(1.0).withNonFinitePolicy(NonFinitePolicy.ZERO)};
            default -> throw new IllegalArgumentException("unknown clipper '" + mode
                    + "'; expected global-norm, value, agc or mixed");
        };
        out.printf("soak: %d steps, tanh RNN 50 units, adding T=50, batch 20, SGD lr 0.05, clipper %s, engine %s %s%n",
                steps, mode, Engine.getInstance().getEngineName(), Engine.getInstance().getVersion());
        out.println("step rss_mib open_ndarrays loss");
        long warmRss = -1;
        long lastRss = -1;
        long maxRss = 0;
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.ADDING).optInit(RnnInit.normal(0.3))
                .optLearningRate(0.05f).optSeed(3).build()) {
            NDManager root;
            try (NDManager probe = NDManager.newBaseManager()) {
                // the engine's root manager: every NDArray of every manager is counted
                root = probe.getParentManager();
            }
            int[] turn = {0};
            for (int step = 1; step <= steps; step++) {
                int k = turn[0]++ % clippers.length;
                double loss = w.forwardBackward(w.batch(step));
                dev.gradclip.djl.DjlGradients g = w.gradients();
                if (clippers.length > 1 && step % 100 == 0) {
                    g.set(1, 0, Float.NaN);
                    k = clippers.length - 1;
                }
                w.update(loss, clippers[k].clip(g));
                if (step % every == 0) {
                    long rss = rssKib();
                    maxRss = Math.max(maxRss, rss);
                    if (warmRss < 0 && step >= Math.min(2_000, steps / 2)) {
                        warmRss = rss;
                    }
                    lastRss = rss;
                    out.printf("%d %.1f %d %.5f%n", step, rss / 1024.0, root.getManagedArrays().size(), loss);
                }
            }
        }
        if (warmRss > 0) {
            out.printf("rss after warm-up %.1f MiB, at the end %.1f MiB, growth %.1f MiB, peak %.1f MiB%n",
                    warmRss / 1024.0, lastRss / 1024.0, (lastRss - warmRss) / 1024.0, maxRss / 1024.0);
        }
    }

    /** @return the resident set size in KiB, from {@code /proc/self/status} (Linux) */
    static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS line in /proc/self/status (not Linux?)");
    }
}
