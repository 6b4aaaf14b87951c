package dev.gradclip.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * One forked JVM of the bench command's DJL comparison: on one set of NDArray gradients it times, in
 * alternation, gradclip's {@code DjlGradients} global-norm clip and the libtorch-ops peer
 * ({@code clip_grad_norm_} composed from DJL ops, see {@link DjlClipBenchmark}), on a step over the
 * threshold and on one under it, round after round, restoring the gradients (untimed) before each
 * call. Interleaving puts both in the same moments of a shared machine, so their ratio holds when
 * separate forks measured at different times would differ by more than the effect.
 *
 * <p>Arguments: {@code floats tensors rounds}; output: one line of eight numbers, the best and the
 * median time in ms of gradclip over, peer over, gradclip under, peer under.
 */
public final class DjlPairedMain {

    private DjlPairedMain() {
    }

    /**
     * @param args {@code floats tensors rounds}
     */
    public static void main(String[] args) {
        DjlClipBenchmark b = new DjlClipBenchmark();
        b.floats = Integer.parseInt(args[0]);
        b.tensors = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        b.setUp();
        try {
            double[][] times = new double[4][rounds];
            float sink = 0;
            for (int r = -2; r < rounds; r++) { // two untimed rounds first: page and cache first touches
                // the order within a round changes every round, so neither side always follows the other
                for (int k = 0; k < 4; k++) {
                    int which = (k + Math.max(r, 0)) % 4;
                    b.restore();
                    long t0 = System.nanoTime();
                    switch (which) {
                        case 0 -> sink += (float) b.gradclipDjl().normBefore();
                        case 1 -> sink += b.libtorchOps();
                        case 2 -> sink += (float) b.gradclipDjlUnderThreshold().normBefore();
                        default -> sink += b.libtorchOpsUnderThreshold();
                    }
                    long t1 = System.nanoTime();
                    if (r >= 0) {
                        times[which][r] = (t1 - t0) / 1e6;
                    }
                }
            }
            StringBuilder line = new StringBuilder();
            for (double[] t : times) {
                Arrays.sort(t);
                line.append(String.format(Locale.ROOT, "%.6f %.6f ", t[0], t[t.length / 2]));
            }
            System.out.println(line.toString().trim());
            if (sink == 42.4242f) {
                System.out.println(); // keeps the results alive
            }
        } finally {
            b.tearDown();
        }
    }
}
