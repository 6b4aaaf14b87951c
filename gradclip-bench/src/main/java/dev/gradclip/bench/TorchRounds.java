package dev.gradclip.bench;

import dev.gradclip.ClipReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoublePredicate;
import java.util.function.IntFunction;

/**
 * The interleaved rounds of the bench's PyTorch comparisons, shared by {@link TorchPairedMain}
 * (gradclip's core) and {@link DjlTorchPairedMain} (gradclip-djl): round by round, each op runs once
 * on gradclip's side and once on the {@link TorchPeer}'s, and the side that goes first changes every
 * round (and from op to op), so neither side always follows the other and both see the same moments
 * of a shared machine. Two untimed rounds come first: page and cache first touches. Every call
 * follows an untimed restore of the gradients, on both sides, and every call's result is checked:
 * gradclip's report must say whether it clipped as the op expects, and the peer's check value must
 * pass the op's {@link Op#torchCheck}.
 */
final class TorchRounds {

    /**
     * How far, relative, the peer's total norm may be from ours: torch sums a tensor's squares in
     * float32; on 64M floats in one tensor its norm was 0.4% below the double-accumulated one (4711.07
     * for 4729.92).
     */
    static final double NORM_TOLERANCE = 1e-2;

    private TorchRounds() {
    }

    /**
     * One op, as both sides run it.
     *
     * @param name       the op, as printed
     * @param clips      whether gradclip's clip must clip (over the threshold) or must not (under it)
     * @param torchOp    the peer's op ({@link TorchPeer#round}): {@code norm}, {@code value} or {@code agc}
     * @param torchArg   the peer's threshold
     * @param torchCheck what the peer's check value (see {@link TorchPeer#round}) must pass
     */
    record Op(String name, boolean clips, String torchOp, double torchArg, DoublePredicate torchCheck) {
    }

    /**
     * The check of the peer's total norm against ours: within {@link #NORM_TOLERANCE}, relative.
     *
     * @param torchNorm the total norm the peer reported for its gradients before any clip
     * @return the check
     */
    static DoublePredicate norm(double torchNorm) {
        return v -> Math.abs(v - torchNorm) <= NORM_TOLERANCE * torchNorm;
    }

    /**
     * Runs the interleaved rounds, at the thread counts the caller has set on both sides.
     *
     * @param ops          the ops, in order
     * @param rounds       timed rounds (two untimed ones come first)
     * @param torchThreads torch's intra-op threads, as the rows give them
     * @param label        gradclip's side, as errors name it ({@code gradclip}, {@code gradclip-djl})
     * @param restore      puts gradclip's pristine gradients back; not timed
     * @param clip         gradclip's timed call of the op at an index of {@code ops}: its report
     * @param peer         the connected peer, set up on gradients of the same sizes
     * @param torchNorm    the total norm the peer reported at setup, for errors
     * @return one row per op, in order
     * @throws IOException           if the peer fails or its check value is off
     * @throws IllegalStateException if gradclip does not clip as the op expects
     */
    static List<TorchPairedMain.Row> run(List<Op> ops, int rounds, int torchThreads, String label, Runnable restore,
            IntFunction<ClipReport> clip, TorchPeer peer, double torchNorm) throws IOException {
        double[][] gc = new double[ops.size()][rounds];
        double[][] pt = new double[ops.size()][rounds];
        for (int r = -2; r < rounds; r++) { // two untimed rounds first: page and cache first touches
            for (int k = 0; k < ops.size(); k++) {
                Op op = ops.get(k);
                // who goes first changes every round, so neither side always follows the other
                for (int side = 0; side < 2; side++) {
                    if ((side + r + k) % 2 == 0) {
                        restore.run();
                        long t0 = System.nanoTime();
                        ClipReport report = clip.apply(k);
                        long t1 = System.nanoTime();
                        if (report.clipped() != op.clips()) {
                            throw new IllegalStateException(op.name() + ": " + label + " clipped=" + report.clipped());
                        }
                        if (r >= 0) {
                            gc[k][r] = (t1 - t0) / 1e6;
                        }
                    } else {
                        double[] reply = peer.round(op.torchOp(), op.torchArg());
                        if (!op.torchCheck().test(reply[1])) {
                            throw new IOException(op.name() + ": the PyTorch peer's check value " + reply[1]
                                    + " is off (norm " + torchNorm + ")");
                        }
                        if (r >= 0) {
                            pt[k][r] = reply[0] / 1e6;
                        }
                    }
                }
            }
        }
        List<TorchPairedMain.Row> rows = new ArrayList<>();
        for (int k = 0; k < ops.size(); k++) {
            rows.add(new TorchPairedMain.Row(ops.get(k).name(), torchThreads, bestAndMedian(gc[k]),
                    bestAndMedian(pt[k])));
        }
        return rows;
    }

    /** @return the smallest and the median of {@code times} */
    static double[] bestAndMedian(double[] times) {
        double[] s = times.clone();
        Arrays.sort(s);
        return new double[] {s[0], s[s.length / 2]};
    }
}
