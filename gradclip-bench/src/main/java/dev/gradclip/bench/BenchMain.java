package dev.gradclip.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gradclip.internal.Kernels;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code bench} command: runs a representative subset of the JMH benchmarks in one run, each row
 * in its own forked JVM, and prints a table of GB/s and the fraction of the streaming read
 * bandwidth measured in the same run; {@code --json} prints the same as one JSON object.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar gradclip-bench/target/gradclip-bench.jar [--quick] [--json] [--out FILE]
 * </pre>
 *
 * <p>Exit codes: 0 done, 1 a benchmark failed, 2 bad usage.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures gradclip against the memory bandwidth of this machine, in one run: streaming read and"
            + " copy bandwidth, global-norm clipping on both kernels (1M, 16M, 64M floats; one tensor and"
            + " 200), the under-threshold step, value clipping, AGC, the clipped optimizer step fused and unfused"
            + " against the step alone (Adam and SGD, 16M floats), and gradclip on DJL NDArrays against the"
            + " same clip composed from libtorch ops, and gradclip's core clip against PyTorch's clip_grad_norm_ and"
            + " clip_grad_value_ (foreach) when a Python with torch is found or can be made from a local CPU wheel"
            + " (--only pytorch; GRADCLIP_TORCH_PYTHON, GRADCLIP_TORCH_WHEEL). Each row runs in its own JVM; GB/s"
            + " counts the bytes the operation must move (a read pass 4 bytes per float, a read and write"
            + " pass 8) over the best measurement iteration."},
        exitCodeOnInvalidInput = 2)
public final class BenchMain implements Callable<Integer> {

    private static final double MS = 1e6; // bytes per ms at 1 GB/s

    /**
     * The rows of the DJL comparison: gradclip over the threshold, the peer over it, gradclip under it,
     * the peer under it (which multiplies by 1 all the same; its bytes are counted as the operation's
     * one read pass).
     */
    private static final List<String> DJL_ROWS = List.of("djl-global-norm-clip", "libtorch-ops-peer",
            "djl-global-norm-under-threshold", "libtorch-ops-peer-under-threshold");

    /** Bytes per float each DJL row's operation must move: a clip 12, a step under the threshold 4. */
    private static final int[] DJL_BYTES = {12, 12, 4, 4};

    @Option(names = "--quick", description = "Run a smaller subset (well under a minute) instead of the full one"
            + " (about two minutes).")
    boolean quick;

    @Option(names = "--json", description = "Print the results as one JSON object on standard output (the table"
            + " goes to standard error).")
    boolean json;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the JSON object to FILE.")
    Path out;

    @Option(names = "--only", paramLabel = "TEXT", description = "Run only the rows whose name contains TEXT (the"
            + " streaming read always runs: it is the reference).")
    String only;

    @Option(names = "--training", description = "Instead of the bandwidth table, measure the share of a DJL"
            + " training step spent clipping, per method (the RNN adding task, and Fashion-MNIST when installed).")
    boolean training;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2000", description = "Timed steps per method for"
            + " --training (default: ${DEFAULT-VALUE}, after 50 untimed ones; with a few hundred the JIT has not"
            + " finished compiling the clip path and the shares read high).")
    int steps;

    @Option(names = "--smoke", hidden = true, description = "Tiny data, no forks: checks the output shape only.")
    boolean smoke;

    private final PrintWriter stdout;
    private final PrintWriter stderr;
    private final TorchPeers torchPeers;

    /** Finds and starts the PyTorch peer; tests give a fake one. */
    interface TorchPeers {
        /**
         * @param progress where to say that a Python with torch is being made
         * @return where the peer's Python is, or why there is none
         */
        TorchPeer.Location locate(PrintWriter progress);

        /**
         * Starts a peer in this JVM (the smoke run; the others fork a JVM that starts its own).
         *
         * @param python the Python that imports torch
         * @return the connected peer
         * @throws IOException if it cannot be started
         */
        TorchPeer start(String python) throws IOException;
    }

    /** The real peer: {@link TorchPeer#locate} on this process's environment. */
    static final TorchPeers SYSTEM_TORCH = new TorchPeers() {
        @Override
        public TorchPeer.Location locate(PrintWriter progress) {
            return TorchPeer.locate(System.getenv(), "python3", TorchPeer.defaultVenv(), TorchPeer.WHEEL_DIR,
                    progress);
        }

        @Override
        public TorchPeer start(String python) throws IOException {
            return TorchPeer.start(python);
        }
    };

    /**
     * @param stdout where the table (or with {@code --json} the JSON) goes
     * @param stderr where progress goes
     */
    BenchMain(PrintWriter stdout, PrintWriter stderr) {
        this(stdout, stderr, SYSTEM_TORCH);
    }

    BenchMain(PrintWriter stdout, PrintWriter stderr, TorchPeers torchPeers) {
        this.stdout = stdout;
        this.stderr = stderr;
        this.torchPeers = torchPeers;
    }

    /**
     * Runs the command.
     *
     * @param args command-line arguments; {@code bench} as the first one is accepted and skipped, so
     *             the launcher may pass {@code ./gradclip bench ...} through
     */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * @param args   the arguments
     * @param stdout standard output
     * @param stderr standard error
     * @return the exit code
     */
    static int run(String[] args, PrintWriter stdout, PrintWriter stderr) {
        return run(args, stdout, stderr, SYSTEM_TORCH);
    }

    /**
     * @param args       the arguments
     * @param stdout     standard output
     * @param stderr     standard error
     * @param torchPeers how the PyTorch peer is found and started
     * @return the exit code
     */
    static int run(String[] args, PrintWriter stdout, PrintWriter stderr, TorchPeers torchPeers) {
        String[] rest = args.length > 0 && args[0].equals("bench") ? java.util.Arrays.copyOfRange(args, 1, args.length)
                : args;
        CommandLine cl = new CommandLine(new BenchMain(stdout, stderr, torchPeers));
        cl.setOut(stdout);
        cl.setErr(stderr);
        // bad input is one line, as in the other gradclip commands, not picocli's usage text
        cl.setParameterExceptionHandler((ex, a) -> {
            String message = ex.getMessage() == null ? "bad arguments" : ex.getMessage().strip().replaceAll("\\s*\\R\\s*", "; ");
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                String arg = u.getUnmatched().get(0);
                List<String> near = u.getSuggestions();
                message = (arg.startsWith("-") ? "unknown option '" : "unexpected argument '") + arg + "'"
                        + (near.isEmpty() ? "" : "; did you mean '" + near.get(0) + "'?");
            } else if (ex.getArgSpec() != null && ex.getArgSpec().isOption() && message.startsWith("Invalid value for")
                    && (ex.getArgSpec().type() == int.class || ex.getArgSpec().type() == Integer.class)) {
                message = ((CommandLine.Model.OptionSpec) ex.getArgSpec()).longestName() + " must be a whole number, got '"
                        + ex.getValue() + "'";
            }
            stderr.println("gradclip bench: " + message + " (see 'gradclip bench --help')");
            stderr.flush();
            return 2;
        });
        return cl.execute(rest);
    }

    @Override
    public Integer call() throws IOException {
        if (training) {
            return trainingOverhead();
        }
        BenchPlan.Mode mode = smoke ? BenchPlan.Mode.SMOKE : quick ? BenchPlan.Mode.QUICK : BenchPlan.Mode.FULL;
        long start = System.nanoTime();
        try {
            List<Measured> measured = jmhRows(mode);
            List<Paired> paired = selects("paired") ? pairedRows(mode) : List.of();
            List<FusedStep> fusedSteps = selects("fused") ? fusedStepRows(mode) : List.of();
            List<DjlPaired> djlPaired = mode != BenchPlan.Mode.SMOKE && (only == null || only.contains("djl")
                    || DJL_ROWS.stream().anyMatch(r -> r.contains(only))) ? djlRows(mode) : List.of();
            // "pytorch", not "torch": the DJL rows' libtorch-ops-peer already answers to --only torch (and both run then)
            TorchRows torch = (only == null ? mode != BenchPlan.Mode.SMOKE : selects("pytorch")) ? torchRows(mode)
                    : new TorchRows(null, null, List.of());
            report(mode, measured, paired, fusedSteps, djlPaired, torch, (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (SectionFailed e) {
            return 1;
        }
    }

    /** A section of the run failed; its two lines are already on standard error. */
    private static final class SectionFailed extends Exception {
        private static final long serialVersionUID = 1L;

        SectionFailed() {
            super(null, null, false, false);
        }
    }

    /** Ends the progress line with "failed", says what failed and why, and returns the exception to throw. */
    private SectionFailed failed(String what, Throwable e) {
        stderr.println("failed");
        stderr.println("gradclip bench: " + what + " failed: " + rootMessage(e));
        return new SectionFailed();
    }

    /** @return whether {@code --only} selects the section named {@code section} (every one without it) */
    private boolean selects(String section) {
        return only == null || section.contains(only) || only.contains(section);
    }

    /** The JMH rows of the plan, each in its own fork, the streaming read always among them. */
    private List<Measured> jmhRows(BenchPlan.Mode mode) throws SectionFailed {
        List<BenchCase> cases = new ArrayList<>(BenchPlan.cases(mode, Kernels.get().name()));
        if (only != null) {
            cases.removeIf(c -> !c.name().startsWith("stream-read") && !c.name().contains(only));
        }
        List<Measured> measured = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            BenchCase c = cases.get(i);
            stderr.printf(Locale.ROOT, "[%d/%d] %s, %s floats, %d tensor%s, %s ... ", i + 1, cases.size(), c.name(),
                    floats(c.floats()), c.tensors(), c.tensors() == 1 ? "" : "s", c.kernel());
            stderr.flush();
            Measured m;
            try {
                m = measure(c, mode);
            } catch (RunnerException | RuntimeException e) {
                throw failed(c.name(), e);
            }
            stderr.printf(Locale.ROOT, "%.1f GB/s%n", gbps(c, m.bestMillis));
            measured.add(m);
        }
        return measured;
    }

    /** Read, clip and under-threshold check interleaved in one JVM, per size. */
    private List<Paired> pairedRows(BenchPlan.Mode mode) throws SectionFailed {
        int[][] sets = mode == BenchPlan.Mode.SMOKE ? new int[][] {{BenchPlan.M1 / 4, 1}}
                : mode == BenchPlan.Mode.QUICK ? new int[][] {{BenchPlan.M64, 1}}
                : new int[][] {{BenchPlan.M16, 1}, {BenchPlan.M16, 200}, {BenchPlan.M64, 1}, {BenchPlan.M64, 200}};
        List<Paired> paired = new ArrayList<>();
        for (int[] set : sets) {
            // rounds of about 10 ms are cheap: more of them, more chances of a quiet one
            int rounds = mode == BenchPlan.Mode.SMOKE ? 3 : set[0] <= BenchPlan.M16 ? 30 : 12;
            stderr.printf(Locale.ROOT, "[paired] read / clip / under-threshold interleaved, %s floats, %d tensor%s,"
                    + " simd ... ", floats(set[0]), set[1], set[1] == 1 ? "" : "s");
            stderr.flush();
            try {
                Paired p = paired(set[0], set[1], rounds, mode == BenchPlan.Mode.SMOKE);
                stderr.printf(Locale.ROOT, "clip at %.0f%% of read speed%n", 100 * p.clipFraction());
                paired.add(p);
            } catch (IOException | RuntimeException e) {
                throw failed("paired measurement", e);
            }
        }
        return paired;
    }

    /** The optimizer step alone, the clipped step fused and unfused, interleaved (Adam and SGD). */
    private List<FusedStep> fusedStepRows(BenchPlan.Mode mode) throws SectionFailed {
        int floats = mode == BenchPlan.Mode.SMOKE ? BenchPlan.M1 / 4 : BenchPlan.M16;
        int rounds = mode == BenchPlan.Mode.SMOKE ? 3 : mode == BenchPlan.Mode.QUICK ? 12 : 30;
        stderr.printf(Locale.ROOT, "[fused] step alone / clipped step fused / unfused interleaved, %s floats, Adam"
                + " and SGD ... ", floats(floats));
        stderr.flush();
        try {
            List<FusedStep> fusedSteps = fusedSteps(floats, rounds, mode == BenchPlan.Mode.SMOKE);
            stderr.printf(Locale.ROOT, "fused / step alone %s%n", String.join(", ", fusedSteps.stream()
                    .map(f -> String.format(Locale.ROOT, "%s %.2f", f.optimizer(), f.fused()[0])).toList()));
            return fusedSteps;
        } catch (IOException | RuntimeException e) {
            throw failed("fused-step measurement", e);
        }
    }

    /** gradclip on DJL NDArrays against the same clip from libtorch ops, per libtorch thread count. */
    private List<DjlPaired> djlRows(BenchPlan.Mode mode) throws SectionFailed {
        List<DjlPaired> djlPaired = new ArrayList<>();
        // the DJL rows need the PyTorch engine's native library, loaded only in forks
        for (Integer threads : mode == BenchPlan.Mode.QUICK ? new Integer[] {1} : new Integer[] {1, null}) {
            stderr.printf(Locale.ROOT, "[djl] gradclip / libtorch-ops peer interleaved, 16M floats, 200 tensors,"
                    + " libtorch %s ... ", threads == null ? "default threads" : threads + " thread");
            stderr.flush();
            try {
                DjlPaired d = djlPaired(BenchPlan.M16, 200, mode == BenchPlan.Mode.QUICK ? 12 : 20, threads);
                stderr.printf(Locale.ROOT, "gradclip / peer %.2f over the threshold, %.2f under%n",
                        d.overRatio(), d.underRatio());
                djlPaired.add(d);
            } catch (IOException | RuntimeException e) {
                throw failed("DJL paired measurement", e);
            }
        }
        return djlPaired;
    }

    /**
     * The PyTorch comparison's rows, with where its peer was looked for.
     *
     * @param peer    where the peer's Python is or why there is none, {@code null} when not looked for
     * @param version the peer's torch version, {@code null} without rows
     * @param rows    the rows
     */
    private record TorchRows(TorchPeer.Location peer, String version, List<TorchPaired> rows) {
    }

    /** gradclip's core clip against PyTorch's clip_grad_*_ (foreach) interleaved, when a peer is found. */
    private TorchRows torchRows(BenchPlan.Mode mode) throws SectionFailed {
        TorchPeer.Location torchPeer = torchPeers.locate(stderr);
        List<TorchPaired> torchPaired = new ArrayList<>();
        String torchVersion = null;
        if (!torchPeer.found()) {
            stderr.println("[pytorch] no PyTorch peer could be run: " + torchPeer.why() + "; the torch rows are"
                    + " skipped");
            stderr.flush();
            return new TorchRows(torchPeer, null, torchPaired);
        }
        int[] threads = Runtime.getRuntime().availableProcessors() > 1
                ? new int[] {1, Runtime.getRuntime().availableProcessors()} : new int[] {1};
        int[][] sets = mode == BenchPlan.Mode.SMOKE ? new int[][] {{BenchPlan.M1 / 4, 1}, {BenchPlan.M1 / 4, 200}}
                : mode == BenchPlan.Mode.QUICK ? new int[][] {{BenchPlan.M1, 1}, {BenchPlan.M1, 200},
                    {BenchPlan.M16, 1}, {BenchPlan.M16, 200}}
                : new int[][] {{BenchPlan.M1, 1}, {BenchPlan.M1, 200}, {BenchPlan.M16, 1},
                    {BenchPlan.M16, 200}, {BenchPlan.M64, 1}, {BenchPlan.M64, 200}};
        for (int[] set : sets) {
            int rounds = mode == BenchPlan.Mode.SMOKE ? 3 : mode == BenchPlan.Mode.QUICK ? 10
                    : set[0] <= BenchPlan.M1 ? 40 : set[0] <= BenchPlan.M16 ? 20 : 10;
            stderr.printf(Locale.ROOT, "[pytorch] gradclip / PyTorch clip_grad_*_ (foreach) interleaved, %s"
                    + " floats, %d tensor%s, torch threads %s ... ", floats(set[0]), set[1],
                    set[1] == 1 ? "" : "s", java.util.Arrays.toString(threads));
            stderr.flush();
            try {
                TorchPairedMain.Parsed p = torchPaired(set[0], set[1], rounds, threads, torchPeer.python(),
                        mode == BenchPlan.Mode.SMOKE);
                torchVersion = p.version();
                for (TorchPairedMain.Row r : p.rows()) {
                    torchPaired.add(new TorchPaired(set[0], set[1], r));
                }
                stderr.printf(Locale.ROOT, "PyTorch / gradclip %s%n", String.join(", ", p.rows().stream()
                        .map(r -> String.format(Locale.ROOT, "%.2f", r.ratio())).toList()));
                if (mode != BenchPlan.Mode.SMOKE) {
                    stderr.printf(Locale.ROOT, "[pytorch] gradclip-djl (DJL NDArrays, PyTorch engine) / PyTorch"
                            + " clip_grad_norm_ interleaved, %s floats, %d tensor%s, one thread ... ",
                            floats(set[0]), set[1], set[1] == 1 ? "" : "s");
                    stderr.flush();
                    TorchPairedMain.Parsed d = djlTorchPaired(set[0], set[1], rounds, torchPeer.python());
                    for (TorchPairedMain.Row r : d.rows()) {
                        torchPaired.add(new TorchPaired(set[0], set[1], r));
                    }
                    stderr.printf(Locale.ROOT, "PyTorch / gradclip-djl %s%n", String.join(", ", d.rows()
                            .stream().map(r -> String.format(Locale.ROOT, "%.2f", r.ratio())).toList()));
                }
            } catch (IOException | RuntimeException e) {
                throw failed("PyTorch paired measurement", e);
            }
        }
        return new TorchRows(torchPeer, torchVersion, torchPaired);
    }

    /** Prints the tables (standard output, or standard error with {@code --json}) and writes the JSON. */
    private void report(BenchPlan.Mode mode, List<Measured> measured, List<Paired> paired, List<FusedStep> fusedSteps,
            List<DjlPaired> djlPaired, TorchRows torch, double seconds) throws IOException {
        double bandwidth = 0;
        double copy = 0;
        for (Measured m : measured) {
            if (m.c.name().startsWith("stream-read")) {
                bandwidth = Math.max(bandwidth, gbps(m.c, m.bestMillis));
            } else if (m.c.name().equals("copy")) {
                copy = gbps(m.c, m.bestMillis);
            }
        }
        List<BenchResult> results = results(measured, djlPaired, bandwidth);
        PrintWriter table = json ? stderr : stdout;
        printTable(table, measured, bandwidth, copy, results, seconds);
        printPaired(table, paired);
        printFusedSteps(table, fusedSteps);
        printDjlPaired(table, djlPaired);
        printTorchPaired(table, torch.rows(), torch.version());
        ObjectNode doc = toJson(bandwidth, copy, results, mode);
        pairedJson(doc.putArray("paired"), paired);
        fusedStepJson(doc.putArray("fused_step"), fusedSteps);
        djlJson(doc.putArray("djl_paired"), djlPaired);
        torchJson(doc, torch);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (json) {
            stdout.println(mapper.writeValueAsString(doc));
            stdout.flush();
        }
        if (out != null) {
            write(mapper, doc);
        }
    }

    /** The table's rows: the JMH rows but the references, and the DJL rows with libtorch on one thread. */
    private static List<BenchResult> results(List<Measured> measured, List<DjlPaired> djlPaired, double bandwidth) {
        List<BenchResult> results = new ArrayList<>();
        for (Measured m : measured) {
            if (m.c.name().startsWith("stream-read") || m.c.name().equals("copy")) {
                continue;
            }
            double g = gbps(m.c, m.bestMillis);
            results.add(new BenchResult(m.c.name(), m.c.floats(), m.c.tensors(), m.c.kernel(), round(g, 3),
                    round(g / bandwidth, 4), m.bestMillis, m.meanMillis));
        }
        for (DjlPaired d : djlPaired) {
            if (d.threads() == null || d.threads() != 1) {
                continue;
            }
            // the rows of the table: libtorch on one thread, as the training measurements run it
            for (int k = 0; k < 4; k++) {
                double g = (double) DJL_BYTES[k] * d.floats() / (d.best()[k] * MS);
                results.add(new BenchResult(DJL_ROWS.get(k), d.floats(), d.tensors(), "libtorch", round(g, 3),
                        round(g / bandwidth, 4), d.best()[k], d.median()[k]));
            }
        }
        return results;
    }

    private static void pairedJson(ArrayNode array, List<Paired> paired) {
        for (Paired p : paired) {
            ObjectNode o = array.addObject();
            o.put("floats", p.floats());
            o.put("tensors", p.tensors());
            o.put("kernel", "simd");
            o.put("read_ms", round(p.readMillis(), 4));
            o.put("clip_ms", round(p.clipMillis(), 4));
            o.put("under_threshold_ms", round(p.checkMillis(), 4));
            o.put("clip_fraction_of_read", round(p.clipFraction(), 4));
            o.put("under_threshold_read_passes", round(p.checkMillis() / p.readMillis(), 4));
        }
    }

    private static void fusedStepJson(ArrayNode array, List<FusedStep> fusedSteps) {
        for (FusedStep f : fusedSteps) {
            ObjectNode o = array.addObject();
            o.put("optimizer", f.optimizer());
            o.put("floats", f.floats());
            o.put("tensors", 1);
            o.put("kernel", "simd");
            o.put("step_best_ms", round(f.best()[0], 4));
            o.put("fused_best_ms", round(f.best()[1], 4));
            o.put("unfused_best_ms", round(f.best()[2], 4));
            o.put("fused_ratio_median", round(f.fused()[0], 4));
            o.put("fused_ratio_q1", round(f.fused()[1], 4));
            o.put("fused_ratio_q3", round(f.fused()[2], 4));
            o.put("unfused_ratio_median", round(f.unfused()[0], 4));
            o.put("unfused_ratio_q1", round(f.unfused()[1], 4));
            o.put("unfused_ratio_q3", round(f.unfused()[2], 4));
            o.put("fused_bytes_ratio", round(f.fusedBytesRatio(), 4));
            o.put("unfused_bytes_ratio", round(f.unfusedBytesRatio(), 4));
            o.put("target", f.target());
        }
    }

    private static void djlJson(ArrayNode array, List<DjlPaired> djlPaired) {
        for (DjlPaired d : djlPaired) {
            ObjectNode o = array.addObject();
            o.put("floats", d.floats());
            o.put("tensors", d.tensors());
            if (d.threads() == null) {
                o.putNull("libtorch_threads");
            } else {
                o.put("libtorch_threads", d.threads());
            }
            String[] keys = {"gradclip_clip", "peer_clip", "gradclip_under_threshold", "peer_under_threshold"};
            for (int k = 0; k < 4; k++) {
                o.put(keys[k] + "_best_ms", round(d.best()[k], 4));
                o.put(keys[k] + "_median_ms", round(d.median()[k], 4));
            }
            o.put("clip_ratio", round(d.overRatio(), 4));
            o.put("under_threshold_ratio", round(d.underRatio(), 4));
        }
    }

    private static void torchJson(ObjectNode doc, TorchRows torch) {
        TorchPeer.Location torchPeer = torch.peer();
        if (torchPeer != null) {
            ObjectNode peer = doc.putObject("torch_peer");
            peer.put("found", torchPeer.found());
            if (torchPeer.found()) {
                peer.put("python", torchPeer.why());
                peer.put("version", torch.version());
            } else {
                peer.put("reason", torchPeer.why());
            }
        }
        ArrayNode array = doc.putArray("torch_paired");
        for (TorchPaired t : torch.rows()) {
            ObjectNode o = array.addObject();
            o.put("op", t.row().op());
            o.put("floats", t.floats());
            o.put("tensors", t.tensors());
            o.put("torch_threads", t.row().torchThreads());
            o.put("gradclip_threads", t.row().torchThreads());
            o.put("gradclip_best_ms", round(t.row().gradclip()[0], 4));
            o.put("gradclip_median_ms", round(t.row().gradclip()[1], 4));
            o.put("torch_best_ms", round(t.row().torch()[0], 4));
            o.put("torch_median_ms", round(t.row().torch()[1], 4));
            o.put("ratio", round(t.row().ratio(), 4));
        }
    }

    /** One row of the PyTorch comparison, with the sizes it ran on. */
    private record TorchPaired(int floats, int tensors, TorchPairedMain.Row row) {
    }

    private TorchPairedMain.Parsed torchPaired(int floats, int tensors, int rounds, int[] threads, String python,
            boolean inProcess) throws IOException {
        if (inProcess) {
            try (TorchPeer peer = torchPeers.start(python)) {
                List<TorchPairedMain.Row> rows = TorchPairedMain.measure(floats, tensors, rounds, threads, peer);
                return new TorchPairedMain.Parsed(peer.version(), rows);
            }
        }
        StringBuilder list = new StringBuilder();
        for (int t : threads) {
            list.append(list.length() == 0 ? "" : ",").append(t);
        }
        List<String> command = concat(forkJvm(), "-Dgradclip.kernels=simd", "-cp",
                System.getProperty("java.class.path"), TorchPairedMain.class.getName(), String.valueOf(floats),
                String.valueOf(tensors), String.valueOf(rounds), list.toString(), python);
        // unlike the other forks, its standard error is kept: the peer's tracebacks end up there
        Path log = Files.createTempFile("gradclip-torch", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
            builder.environment().put(HUGE_PAGES_ENV, "1");
            Process process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int code = process.waitFor();
            if (code != 0) {
                List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
                String last = lines.stream().filter(l -> l.contains("Exception") || l.contains("Error")).findFirst()
                        .orElse(lines.isEmpty() ? "" : lines.get(lines.size() - 1));
                throw new IllegalStateException("the forked JVM exited with code " + code
                        + (last.isEmpty() ? "" : ": " + last.strip()));
            }
            return TorchPairedMain.parse(output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** gradclip-djl against PyTorch's {@code clip_grad_norm_} in a fork ({@link DjlTorchPairedMain}). */
    private static TorchPairedMain.Parsed djlTorchPaired(int floats, int tensors, int rounds, String python)
            throws IOException {
        List<String> command = concat(forkJvm(), "-Dgradclip.kernels=simd",
                "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1");
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DjlTorchPairedMain.class.getName(),
                String.valueOf(floats), String.valueOf(tensors), String.valueOf(rounds), python));
        return TorchPairedMain.parse(fork(command));
    }

    private static void printTorchPaired(PrintWriter w, List<TorchPaired> rows, String version) {
        if (rows.isEmpty()) {
            return;
        }
        w.println();
        w.println("PyTorch " + version + ", paired (gradclip's core clip and torch.nn.utils clip_grad_norm_ /"
                + " clip_grad_value_ with foreach=True, and AGC written as timm's, alternating round by round on the"
                + " same sizes; gradclip's core on as many threads as torch (GradientSet.withParallelism); value_1pass"
                + " is gradclip under PROPAGATE, torch's semantics; the djl_ rows are gradclip-djl's DjlGradients on"
                + " DJL NDArrays (PyTorch engine, CPU, libtorch on one thread) against clip_grad_norm_ on one torch"
                + " thread; ratio = PyTorch median / gradclip median, > 1: gradclip faster):");
        w.printf(Locale.ROOT, "%-24s %7s %7s %7s %8s %10s %10s %10s %10s %7s%n", "op", "floats", "tensors",
                "torch t", "gc t", "gc best", "gc median", "pt best", "pt median", "ratio");
        for (TorchPaired t : rows) {
            TorchPairedMain.Row r = t.row();
            w.printf(Locale.ROOT, "%-24s %7s %7d %7d %8d %10.3f %10.3f %10.3f %10.3f %7.2f%n", r.op(),
                    floats(t.floats()), t.tensors(), r.torchThreads(), r.op().startsWith("djl_") ? 1 : r.torchThreads(),
                    r.gradclip()[0], r.gradclip()[1],
                    r.torch()[0], r.torch()[1], r.ratio());
        }
        w.flush();
    }

    /**
     * The DJL comparison of one gradient set: best and median times of gradclip and the peer, over and
     * under the threshold (in that order: gradclip over, peer over, gradclip under, peer under).
     *
     * @param threads libtorch's intra-op threads, or {@code null} for its default
     */
    private record DjlPaired(int floats, int tensors, Integer threads, double[] best, double[] median) {
        /** @return gradclip's median time over the peer's, on a step over the threshold */
        double overRatio() {
            return median[0] / median[1];
        }

        /** @return the same on a step under the threshold */
        double underRatio() {
            return median[2] / median[3];
        }
    }

    private static DjlPaired djlPaired(int floats, int tensors, int rounds, Integer threads) throws IOException {
        List<String> command = concat(forkJvm(), "-Dai.djl.offline=true");
        if (threads != null) {
            command.add("-Dai.djl.pytorch.num_threads=" + threads);
            command.add("-Dai.djl.pytorch.num_interop_threads=1");
        }
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DjlPairedMain.class.getName(),
                String.valueOf(floats), String.valueOf(tensors), String.valueOf(rounds)));
        String output = fork(command);
        String[] f = output.trim().split("\\s+");
        if (f.length != 8) {
            throw new IllegalStateException("unexpected output of the DJL paired measurement: '" + output.trim() + "'");
        }
        double[] best = new double[4];
        double[] median = new double[4];
        for (int k = 0; k < 4; k++) {
            best[k] = Double.parseDouble(f[2 * k]);
            median[k] = Double.parseDouble(f[2 * k + 1]);
        }
        return new DjlPaired(floats, tensors, threads, best, median);
    }

    /**
     * The fused-step measurement of one optimizer: best times of the step alone, the fused clipped
     * step and the unfused one (in that order), and the per-round ratios of each clipped step over
     * the step alone: median, lower and upper quartile.
     */
    private record FusedStep(String optimizer, int floats, double[] best, double[] fused, double[] unfused) {
        /** @return bytes per float the step alone must move: SGD 12 (θ, g read; θ written), Adam 28 */
        int stepBytes() {
            return optimizer.equals("adam") ? 28 : 12;
        }

        /** @return (step + one read pass) / step */
        double fusedBytesRatio() {
            return (stepBytes() + 4.0) / stepBytes();
        }

        /** @return (step + a read pass + a read-and-write pass) / step */
        double unfusedBytesRatio() {
            return (stepBytes() + 12.0) / stepBytes();
        }

        /** @return the bound the fused ratio is held to (issue 15): 1.15 for Adam, 1.35 for SGD */
        double target() {
            return optimizer.equals("adam") ? 1.15 : 1.35;
        }
    }

    private static List<FusedStep> fusedSteps(int floats, int rounds, boolean inProcess) throws IOException {
        String output;
        String[] args = {String.valueOf(floats), String.valueOf(rounds)};
        if (inProcess) {
            java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
            java.io.PrintStream old = System.out;
            System.setOut(new java.io.PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                FusedStepMain.main(args);
            } finally {
                System.setOut(old);
            }
            output = buffer.toString(java.nio.charset.StandardCharsets.UTF_8);
        } else {
            List<String> command = concat(forkJvm(), "-Dgradclip.kernels=simd",
                    "-cp", System.getProperty("java.class.path"), FusedStepMain.class.getName());
            command.addAll(List.of(args));
            output = fork(command);
        }
        List<FusedStep> rows = new ArrayList<>();
        for (String line : output.strip().split("\\R")) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 10) {
                throw new IllegalStateException("unexpected output of the fused-step measurement: '" + line + "'");
            }
            double[] v = new double[9];
            for (int k = 0; k < 9; k++) {
                v[k] = Double.parseDouble(f[k + 1]);
            }
            rows.add(new FusedStep(f[0], floats, java.util.Arrays.copyOfRange(v, 0, 3),
                    java.util.Arrays.copyOfRange(v, 3, 6), java.util.Arrays.copyOfRange(v, 6, 9)));
        }
        if (rows.size() != FusedStepMain.OPTIMIZERS.length) {
            throw new IllegalStateException("expected " + FusedStepMain.OPTIMIZERS.length
                    + " rows from the fused-step measurement, got '" + output.strip() + "'");
        }
        return rows;
    }

    private static void printFusedSteps(PrintWriter w, List<FusedStep> rows) {
        if (rows.isEmpty()) {
            return;
        }
        w.println();
        w.println("Clipping fused into the update, paired in one JVM (optimizer step alone, global-norm clipped step"
                + " fused and unfused, interleaved; clipped / alone per round: median [quartiles]; bytes: the ratio"
                + " the bytes moved predict):");
        w.printf(Locale.ROOT, "%-9s %7s %9s %9s %10s %22s %6s %22s %6s %7s%n", "optimizer", "floats", "step ms",
                "fused ms", "unfused ms", "fused / step", "bytes", "unfused / step", "bytes", "target");
        for (FusedStep f : rows) {
            w.printf(Locale.ROOT, "%-9s %7s %9.3f %9.3f %10.3f %22s %6.2f %22s %6.2f %7s%n", f.optimizer(),
                    floats(f.floats()), f.best()[0], f.best()[1], f.best()[2], ratio(f.fused()), f.fusedBytesRatio(),
                    ratio(f.unfused()), f.unfusedBytesRatio(), String.format(Locale.ROOT, "<= %.2f", f.target()));
        }
        w.flush();
    }

    private static String ratio(double[] medianQuartiles) {
        return String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", medianQuartiles[0], medianQuartiles[1],
                medianQuartiles[2]);
    }

    private static void printDjlPaired(PrintWriter w, List<DjlPaired> rows) {
        if (rows.isEmpty()) {
            return;
        }
        w.println();
        w.println("DJL, paired in one JVM (gradclip's DjlGradients and the libtorch-ops peer interleaved on the same"
                + " NDArrays; median of the rounds; ratio < 1: gradclip faster):");
        w.printf(Locale.ROOT, "%7s %7s %16s %12s %10s %7s %12s %10s %7s%n", "floats", "tensors", "libtorch threads",
                "gradclip ms", "peer ms", "ratio", "under: gc ms", "peer ms", "ratio");
        for (DjlPaired d : rows) {
            w.printf(Locale.ROOT, "%7s %7d %16s %12.3f %10.3f %7.2f %12.3f %10.3f %7.2f%n", floats(d.floats()),
                    d.tensors(), d.threads() == null ? "default" : String.valueOf(d.threads()), d.median()[0],
                    d.median()[1], d.overRatio(), d.median()[2], d.median()[3], d.underRatio());
        }
        w.flush();
    }

    private int trainingOverhead() throws IOException {
        if (steps < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--steps must be >= 1, got " + steps);
        }
        PrintWriter table = json ? stderr : stdout;
        List<TrainingOverhead.Row> rows = TrainingOverhead.run(smoke ? 2 : 50, smoke ? 3 : steps, stderr);
        table.println();
        table.printf(Locale.ROOT, "%-18s %-12s %6s %10s %10s %8s%n", "workload", "method", "steps", "step ms",
                "clip ms", "share");
        for (TrainingOverhead.Row r : rows) {
            table.printf(Locale.ROOT, "%-18s %-12s %6d %10.3f %10.3f %7.2f%%%n", r.workload(), r.method(), r.steps(),
                    r.stepMillis(), r.clipMillis(), 100 * r.share());
        }
        table.flush();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode doc = mapper.createObjectNode();
        ArrayNode arr = doc.putArray("training_overhead");
        for (TrainingOverhead.Row r : rows) {
            ObjectNode o = arr.addObject();
            o.put("workload", r.workload());
            o.put("method", r.method());
            o.put("steps", r.steps());
            o.put("step_ms", round(r.stepMillis(), 4));
            o.put("clip_ms", round(r.clipMillis(), 4));
            o.put("share", round(r.share(), 5));
        }
        if (json) {
            stdout.println(mapper.writeValueAsString(doc));
            stdout.flush();
        }
        if (out != null) {
            write(mapper, doc);
        }
        return 0;
    }

    private void write(ObjectMapper mapper, ObjectNode doc) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = Files.createTempFile(parent, ".bench", ".json");
        mapper.writeValue(tmp.toFile(), doc);
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        stderr.println("wrote " + out);
    }

    /**
     * The paired measurement of one gradient set: best times of a streaming read, a global-norm clip
     * and an under-threshold step, interleaved in one JVM.
     */
    private record Paired(int floats, int tensors, double readMillis, double clipMillis, double checkMillis) {
        /** @return the clip's GB/s (12n bytes) over the read's (4n bytes) on the same data */
        double clipFraction() {
            return 3 * readMillis / clipMillis;
        }
    }

    private static Paired paired(int floats, int tensors, int rounds, boolean inProcess) throws IOException {
        if (inProcess) {
            java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
            java.io.PrintStream old = System.out;
            System.setOut(new java.io.PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                PairedMain.main(new String[] {String.valueOf(floats), String.valueOf(tensors), String.valueOf(rounds)});
            } finally {
                System.setOut(old);
            }
            return parsePaired(floats, tensors, buffer.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
        List<String> command = concat(forkJvm(), "-Dgradclip.kernels=simd", "-cp",
                System.getProperty("java.class.path"), PairedMain.class.getName(), String.valueOf(floats),
                String.valueOf(tensors), String.valueOf(rounds));
        return parsePaired(floats, tensors, fork(command));
    }

    /**
     * The start of every forked JVM's command line: this JVM's {@code java}, the vector module, a
     * fixed 2 GiB heap, and on Linux {@code -XX:+UseTransparentHugePages}, so that the heap (and with
     * it every gradient array over half a G1 region) lies on 2 MiB pages where the kernel allows it
     * ({@code madvise} or {@code always} in {@code /sys/kernel/mm/transparent_hugepage/enabled};
     * with {@code never} the JVM warns once and runs on 4 KiB pages). Memory-bound loops over
     * arrays of many MiB then pay no TLB miss every 4 KiB; the PyTorch peer and libtorch in the DJL
     * forks get the same ({@link #HUGE_PAGES_ENV}).
     */
    static List<String> forkJvm() {
        List<String> jvm = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-Xms2g", "-Xmx2g"));
        if (System.getProperty("os.name", "").startsWith("Linux")) {
            jvm.add("-XX:+UseTransparentHugePages");
        }
        return jvm;
    }

    /**
     * The environment variable with which libtorch (the PyTorch peer, and DJL's engine in the forks)
     * asks for transparent huge pages for its CPU tensors, as the forked JVMs do for their heap.
     */
    static final String HUGE_PAGES_ENV = "THP_MEM_ALLOC_ENABLE";

    /** @return a new, mutable list of {@code head} and then {@code tail} */
    private static List<String> concat(List<String> head, String... tail) {
        List<String> out = new ArrayList<>(head);
        out.addAll(List.of(tail));
        return out;
    }

    /** Runs a forked JVM to its end and returns its standard output. */
    private static String fork(List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put(HUGE_PAGES_ENV, "1");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            int code = process.waitFor();
            if (code != 0) {
                throw new IllegalStateException("the forked JVM exited with code " + code);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
            throw new IllegalStateException("interrupted", e);
        }
        return output;
    }

    private static Paired parsePaired(int floats, int tensors, String output) {
        String[] f = output.trim().split("\\s+");
        if (f.length != 3) {
            throw new IllegalStateException("unexpected output of the paired measurement: '" + output.trim() + "'");
        }
        return new Paired(floats, tensors, Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
    }

    private static void printPaired(PrintWriter w, List<Paired> paired) {
        if (paired.isEmpty()) {
            return;
        }
        w.println();
        w.println("Paired in one JVM (read, clip, under-threshold step interleaved on the same data; best of the rounds):");
        w.printf(Locale.ROOT, "%7s %7s %10s %10s %10s %16s %20s%n", "floats", "tensors", "read ms", "clip ms",
                "check ms", "clip GB/s / read", "check / read pass");
        for (Paired p : paired) {
            w.printf(Locale.ROOT, "%7s %7d %10.3f %10.3f %10.3f %15.0f%% %19.2fx%n", floats(p.floats()), p.tensors(),
                    p.readMillis(), p.clipMillis(), p.checkMillis(), 100 * p.clipFraction(),
                    p.checkMillis() / p.readMillis());
        }
        w.flush();
    }

    /** A case and its times. */
    private record Measured(BenchCase c, double bestMillis, double meanMillis) {
    }

    private static Measured measure(BenchCase c, BenchPlan.Mode mode) throws RunnerException {
        String pkg = BenchMain.class.getPackageName();
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include("^" + Pattern.quote(pkg + "." + c.benchmark()) + "$")
                .mode(org.openjdk.jmh.annotations.Mode.AverageTime)
                .timeUnit(TimeUnit.MILLISECONDS)
                .warmupIterations(mode.warmupIterations)
                .warmupTime(TimeValue.milliseconds(100))
                .measurementIterations(mode.measurementIterations)
                .measurementTime(TimeValue.milliseconds(mode == BenchPlan.Mode.SMOKE ? 5 : 100))
                .forks(mode == BenchPlan.Mode.SMOKE ? 0 : 1)
                .jvmArgsAppend(c.jvmArgs().toArray(new String[0]))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT);
        for (Map.Entry<String, String> p : c.params().entrySet()) {
            o.param(p.getKey(), p.getValue());
        }
        Collection<RunResult> runs;
        try (QuietStreams quiet = new QuietStreams()) {
            runs = new Runner(o.build()).run();
        }
        if (runs.size() != 1) {
            throw new IllegalStateException("expected one result for " + c.benchmark() + " " + c.params() + ", got "
                    + runs.size());
        }
        RunResult run = runs.iterator().next();
        double best = Double.POSITIVE_INFINITY;
        for (BenchmarkResult br : run.getBenchmarkResults()) {
            for (IterationResult ir : br.getIterationResults()) {
                best = Math.min(best, ir.getPrimaryResult().getScore());
            }
        }
        return new Measured(c, best, run.getPrimaryResult().getScore());
    }

    private static double gbps(BenchCase c, double millis) {
        return c.bytes() / (millis * MS);
    }

    private static double round(double x, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }

    private static String floats(long n) {
        return n % (1 << 20) == 0 ? (n >> 20) + "M" : n % 1024 == 0 ? (n >> 10) + "K" : String.valueOf(n);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private void printTable(PrintWriter w, List<Measured> measured, double bandwidth, double copy,
            List<BenchResult> results, double seconds) {
        w.println();
        w.printf(Locale.ROOT, "%s, %d cores, %s%n", Machine.cpuModel(), Runtime.getRuntime().availableProcessors(),
                Machine.java());
        w.printf(Locale.ROOT, "streaming read %.1f GB/s (best of start and end), copy %.1f GB/s (read + write"
                + " counted)%n", bandwidth, copy);
        for (Measured m : measured) {
            if (m.c.name().startsWith("stream-read")) {
                w.printf(Locale.ROOT, "  %s: %.1f GB/s (%s floats)%n", m.c.name(), gbps(m.c, m.bestMillis),
                        floats(m.c.floats()));
            }
        }
        w.println();
        w.printf(Locale.ROOT, "%-33s %7s %7s %-8s %6s %10s %10s %8s %8s%n", "benchmark", "floats", "tensors",
                "kernel", "bytes", "best ms", "mean ms", "GB/s", "of read");
        for (BenchResult r : results) {
            int djl = DJL_ROWS.indexOf(r.name());
            int bytes = djl >= 0 ? DJL_BYTES[djl] : measured.stream().filter(m -> m.c.name().equals(r.name())
                    && m.c.floats() == r.floats() && m.c.tensors() == r.tensors() && m.c.kernel().equals(r.kernel()))
                    .findFirst().orElseThrow().c.bytesPerFloat();
            w.printf(Locale.ROOT, "%-33s %7s %7d %-8s %5dn %10.3f %10.3f %8.1f %7.0f%%%n", r.name(),
                    floats(r.floats()), r.tensors(), r.kernel(), bytes, r.bestMillis(), r.meanMillis(),
                    r.gbps(), 100 * r.fractionOfBandwidth());
        }
        w.printf(Locale.ROOT, "%n%d rows in %.0f s. GB/s = bytes the operation must move / best iteration's time per"
                + " call; 'of read' = GB/s / streaming read. The libtorch rows (one thread) come from the DJL"
                + " paired rounds below: best and median.%n", results.size(), seconds);
        w.flush();
    }

    private static ObjectNode toJson(double bandwidth, double copy, List<BenchResult> results,
            BenchPlan.Mode mode) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode doc = mapper.createObjectNode();
        doc.put("bandwidth_gbps", round(bandwidth, 3));
        doc.put("copy_gbps", round(copy, 3));
        ArrayNode rows = doc.putArray("results");
        for (BenchResult r : results) {
            rows.add(mapper.valueToTree(r));
        }
        ObjectNode machine = doc.putObject("machine");
        machine.put("cpu", Machine.cpuModel());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", Machine.java());
        doc.put("mode", mode.name().toLowerCase(Locale.ROOT));
        return doc;
    }
}
