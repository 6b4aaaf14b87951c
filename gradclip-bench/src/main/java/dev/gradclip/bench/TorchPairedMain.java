package dev.gradclip.bench;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.internal.Kernels;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One forked JVM of the bench command's PyTorch comparison: on gradients (and parameters) of the same
 * sizes on both sides ({@link Workloads#split}, uniform in [-1, 1)) it alternates, round by round,
 * gradclip's core clip ({@link Clippers#globalNorm} over and under the threshold, {@link Clippers#value}
 * with its default {@code THROW} policy and with {@code PROPAGATE}, {@link Clippers#agc}) and the PyTorch
 * peer's {@code clip_grad_norm_} / {@code clip_grad_value_} ({@code foreach=True}) and a unit-wise AGC
 * written as timm's {@code adaptive_clip_grad}, so both see the same moments of a shared machine. Each
 * call follows an untimed restore of the gradients, on both sides; before the rounds, each gradclip
 * clip runs untimed on the measured data for up to a second. At each torch thread count in turn,
 * gradclip runs on as many threads ({@link GradientSet#withParallelism}; one thread is its plain path).
 *
 * <p>{@code clip_grad_value_} checks nothing and lets NaN through, which is gradclip's
 * {@code PROPAGATE}: that row ({@code clip_grad_value_1pass}) compares the same work, one read-and-write
 * pass on both sides. The default {@code THROW} row also checks every element before it writes one.
 *
 * <p>Arguments: {@code floats tensors rounds threads python}, threads comma-separated; output: a line
 * {@code torch <version>}, then one line per op and thread count: {@code op threads gradclip_best
 * gradclip_median torch_best torch_median} (ms).
 */
public final class TorchPairedMain {

    /**
     * The ops, as printed: the global-norm clip over the threshold, under it, value clipping (gradclip
     * under {@code THROW}, then under {@code PROPAGATE}) and AGC.
     */
    static final List<String> OPS = List.of("clip_grad_norm", "clip_grad_norm_under", "clip_grad_value",
            "clip_grad_value_1pass", "agc");

    /** The clip value of {@code clip_grad_value_}: half the elements of uniform [-1, 1) data exceed it. */
    static final double CLIP_VALUE = ElementwiseClipBenchmark.CLIP_VALUE;

    private TorchPairedMain() {
    }

    /**
     * One op at one torch thread count: best and median ms of each side.
     *
     * @param op           one of {@link #OPS}
     * @param torchThreads torch's intra-op threads, and gradclip's
     * @param gradclip     best and median ms
     * @param torch        best and median ms
     */
    record Row(String op, int torchThreads, double[] gradclip, double[] torch) {
        /** @return PyTorch's median over gradclip's: above 1, gradclip is faster */
        double ratio() {
            return torch[1] / gradclip[1];
        }
    }

    /**
     * @param args {@code floats tensors rounds threads python}
     * @throws IOException if the peer fails
     */
    public static void main(String[] args) throws IOException {
        int floats = Integer.parseInt(args[0]);
        int tensors = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int[] threads = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        Clipper norm = Clippers.globalNorm(1e-3);
        Clipper none = Clippers.globalNorm(1e9);
        Clipper value = Clippers.value(CLIP_VALUE);
        Clipper onePass = Clippers.value(CLIP_VALUE).withNonFinitePolicy(NonFinitePolicy.PROPAGATE);
        Clipper agc = Clippers.agc(ElementwiseClipBenchmark.AGC_LAMBDA);
        // one warm-up each, on restored data: after a norm clip to 1e-3 nothing would exceed the clip
        // value, the clamp's write branch would be compiled as never taken and deoptimize when measured
        for (Clipper c : new Clipper[] {norm, none, value, onePass, agc}) {
            JitWarmUp.run(c::clip);
            JitWarmUp.run(set -> c.clip(set.withParallelism(2)));
        }
        try (TorchPeer peer = TorchPeer.start(args[4])) {
            System.out.print(format(peer.version(), measure(floats, tensors, rounds, threads, peer)));
            System.out.flush();
        }
    }

    /**
     * Measures every op at every thread count.
     *
     * @param floats  total floats
     * @param tensors tensors
     * @param rounds  timed rounds (two untimed ones come first)
     * @param threads torch thread counts, in order
     * @param peer    the connected peer
     * @return the rows, ops within thread counts
     * @throws IOException if the peer fails or a clip does not do what it should
     */
    static List<Row> measure(int floats, int tensors, int rounds, int[] threads, TorchPeer peer) throws IOException {
        ClipData data = ClipData.create(floats, tensors, true, Kernels.get().name());
        float[][] pristine = ClipData.copy(data.grads);
        double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(data.set).normBefore();
        Clipper[] clippers = {Clippers.globalNorm(norm * 0.5), Clippers.globalNorm(norm * 2),
            Clippers.value(CLIP_VALUE), Clippers.value(CLIP_VALUE).withNonFinitePolicy(NonFinitePolicy.PROPAGATE),
            Clippers.agc(ElementwiseClipBenchmark.AGC_LAMBDA)};
        double torchNorm = peer.setup(floats, tensors);
        // AGC clips every unit of this data to λ·|w_u|: gradients after / parameters = λ
        double agcCheck = ElementwiseClipBenchmark.AGC_LAMBDA;
        List<TorchRounds.Op> ops = List.of(
                new TorchRounds.Op(OPS.get(0), true, "norm", torchNorm * 0.5, TorchRounds.norm(torchNorm)),
                new TorchRounds.Op(OPS.get(1), false, "norm", torchNorm * 2, TorchRounds.norm(torchNorm)),
                new TorchRounds.Op(OPS.get(2), true, "value", CLIP_VALUE, v -> v <= CLIP_VALUE),
                new TorchRounds.Op(OPS.get(3), true, "value", CLIP_VALUE, v -> v <= CLIP_VALUE),
                new TorchRounds.Op(OPS.get(4), true, "agc", ElementwiseClipBenchmark.AGC_LAMBDA,
                        v -> Math.abs(v - agcCheck) <= 1e-3 * agcCheck));
        List<Row> rows = new ArrayList<>();
        for (int t : threads) {
            peer.threads(t);
            GradientSet set = data.set.withParallelism(t);
            // untimed, on the measured data: on a loaded machine C2 lags, and vector code that is not
            // yet compiled (or deoptimized by a profile the small warm-up did not show) is 10-100x slower
            for (Clipper c : clippers) {
                long until = System.nanoTime() + 1_000_000_000L;
                for (int i = 0; i < 3 || i < 200 && System.nanoTime() < until; i++) {
                    Workloads.restore(pristine, data.grads);
                    c.clip(set);
                }
            }
            rows.addAll(TorchRounds.run(ops, rounds, t, "gradclip", () -> Workloads.restore(pristine, data.grads),
                    k -> clippers[k].clip(set), peer, torchNorm));
        }
        return rows;
    }

    /**
     * What {@link #main} (and {@link DjlTorchPairedMain#main}) prints, and {@link #parse} reads.
     *
     * @param version torch's version
     * @param rows    the rows
     * @return a line {@code torch <version>}, then one line per row
     */
    static String format(String version, List<Row> rows) {
        StringBuilder out = new StringBuilder("torch " + version + "\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "%s %d %.6f %.6f %.6f %.6f%n", r.op(), r.torchThreads(),
                    r.gradclip()[0], r.gradclip()[1], r.torch()[0], r.torch()[1]));
        }
        return out.toString();
    }

    /**
     * Parses what {@link #main} (or {@link DjlTorchPairedMain#main}) prints.
     *
     * @param output the output
     * @return torch's version and the rows
     */
    static Parsed parse(String output) {
        List<String> lines = output.strip().lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
        if (lines.isEmpty() || !lines.get(0).startsWith("torch ")) {
            throw new IllegalStateException("unexpected output of the PyTorch paired measurement: '" + output.strip()
                    + "'");
        }
        List<Row> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\\s+");
            if (f.length != 6 || !OPS.contains(f[0]) && !DjlTorchPairedMain.OPS.contains(f[0])) {
                throw new IllegalStateException("unexpected line of the PyTorch paired measurement: '" + line + "'");
            }
            rows.add(new Row(f[0], Integer.parseInt(f[1]), new double[] {Double.parseDouble(f[2]),
                Double.parseDouble(f[3])}, new double[] {Double.parseDouble(f[4]), Double.parseDouble(f[5])}));
        }
        return new Parsed(lines.get(0).substring(6).trim(), rows);
    }

    /**
     * @param version torch's version
     * @param rows    the rows
     */
    record Parsed(String version, List<Row> rows) {
    }
}
