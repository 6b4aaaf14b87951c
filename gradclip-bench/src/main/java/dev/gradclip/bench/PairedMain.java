package dev.gradclip.bench;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import java.util.Locale;

/**
 * One forked JVM of the bench command's paired measurement: on one gradient set it times, in
 * alternation, a streaming read of the arrays, a global-norm clip over the threshold and a step
 * under it, round after round, and prints the best time of each. Interleaving puts the three in the
 * same moments of a shared machine, so their ratios hold even when the machine's load swings
 * between rows, which the separate JMH forks of the table cannot promise.
 *
 * <p>Arguments: {@code floats tensors rounds}; output: one line {@code read_ms clip_ms check_ms}.
 */
public final class PairedMain {

    private PairedMain() {
    }

    /**
     * @param args {@code floats tensors rounds}
     */
    public static void main(String[] args) {
        int floats = Integer.parseInt(args[0]);
        int tensors = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        JitWarmUp.run(set -> {
            Clippers.globalNorm(1e-3).clip(set);
            Clippers.globalNorm(1e9).clip(set);
            MemoryBandwidthBenchmark.sum(set.gradient(0));
        });
        ClipData data = ClipData.create(floats, tensors, false, dev.gradclip.internal.Kernels.get().name());
        double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(data.set).normBefore();
        Clipper check = Clippers.globalNorm(norm * 2);
        double bestRead = Double.POSITIVE_INFINITY;
        double bestClip = Double.POSITIVE_INFINITY;
        double bestCheck = Double.POSITIVE_INFINITY;
        int halvings = 0;
        float sink = 0;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (float[] a : data.grads) {
                sink += MemoryBandwidthBenchmark.sum(a);
            }
            long t1 = System.nanoTime();
            ClipReport clipped = Clippers.globalNorm(norm * 0.5).clip(data.set);
            long t2 = System.nanoTime();
            ClipReport unclipped = check.clip(data.set);
            long t3 = System.nanoTime();
            if (!clipped.clipped() || unclipped.clipped()) {
                throw new IllegalStateException("round " + r + ": the clip did not clip or the check did");
            }
            norm = clipped.normAfter();
            check = Clippers.globalNorm(norm * 2);
            if (++halvings == GlobalNormClipBenchmark.HALVINGS) { // untimed: restore the scale exactly
                double factor = Math.scalb(1.0, halvings);
                for (int t = 0; t < data.set.tensorCount(); t++) {
                    data.set.scale(t, factor);
                }
                norm *= factor;
                check = Clippers.globalNorm(norm * 2);
                halvings = 0;
            }
            if (r > 0) { // the first round pays for page and cache first touches
                bestRead = Math.min(bestRead, (t1 - t0) / 1e6);
                bestClip = Math.min(bestClip, (t2 - t1) / 1e6);
                bestCheck = Math.min(bestCheck, (t3 - t2) / 1e6);
            }
        }
        System.out.printf(Locale.ROOT, "%.6f %.6f %.6f%n", bestRead, bestClip, bestCheck);
        if (sink == 42.4242f) {
            System.out.println(); // keeps the reads alive
        }
    }
}
