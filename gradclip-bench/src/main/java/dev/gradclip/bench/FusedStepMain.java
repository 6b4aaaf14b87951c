package dev.gradclip.bench;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.optim.Optimizer;
import dev.gradclip.optim.Optimizers;
import dev.gradclip.optim.StepReport;
import dev.gradclip.optim.TrainingStep;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One forked JVM of the bench command's fused-step measurement: for Adam and for plain SGD, on one
 * set of parameters and gradients, it times in alternation the optimizer step alone, the clipped
 * step of a {@link TrainingStep} (global norm, over the threshold at every step, the coefficient
 * applied inside the update pass) and the same clipped step unfused (clip in place, then step),
 * round after round, the order rotating each round. The result is the ratio of each clipped step to
 * the step alone <em>within each round</em> (paired), so a load swing of the shared machine moves
 * both sides of a ratio together; the median of those ratios and their quartiles are printed.
 *
 * <p>Bytes the operation must move per float: SGD's step reads the parameter and the gradient and
 * writes the parameter (12 bytes), Adam's also reads and writes its two moments (28 bytes); the
 * fused clip adds one read pass (4 bytes): 16/12 = 1.33 for SGD and 32/28 = 1.14 for Adam; the
 * unfused clip adds a read pass and a read-and-write pass (12 bytes): 2.0 and 1.43.
 *
 * <p>The clipper is {@code globalNorm(n0/2).withEpsilon(1e-6)}, {@code n0} the initial norm: with
 * PyTorch's epsilon the coefficient {@code c/(n + 1e-6)} is below 1 even at the threshold, so the
 * unfused path, whose gradients shrink to the threshold after its first step, clips every step as
 * the fused path does (whose gradients are never written). The three steps share the parameters and
 * the gradients; each has its own optimizer state.
 *
 * <p>Arguments: {@code floats rounds}; output: one line per optimizer,
 * {@code name step_best fused_best unfused_best fused_median fused_q1 fused_q3 unfused_median
 * unfused_q1 unfused_q3} (times in ms, the rest ratios over the step alone).
 */
public final class FusedStepMain {

    /** The optimizers measured, by name. */
    static final String[] OPTIMIZERS = {"adam", "sgd"};

    private FusedStepMain() {
    }

    static Supplier<Optimizer> optimizer(String name) {
        return switch (name) {
            case "adam" -> () -> Optimizers.adam(1e-4);
            case "sgd" -> () -> Optimizers.sgd(1e-4);
            default -> throw new IllegalArgumentException("unknown optimizer " + name);
        };
    }

    /**
     * @param args {@code floats rounds}
     */
    public static void main(String[] args) {
        int floats = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        for (String name : OPTIMIZERS) {
            warmUp(name);
        }
        for (String name : OPTIMIZERS) {
            System.out.println(name + " " + measure(name, floats, rounds));
        }
    }

    /** The three steps over one gradient set. */
    private static final class Trio {
        final GradientSet set;
        final Optimizer alone;
        final TrainingStep fused;
        final TrainingStep unfused;

        Trio(String name, float[][] grads, float[][] params) {
            set = Workloads.gradientSet(grads, params);
            double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(set).normBefore();
            Supplier<Clipper> clipper = () -> Clippers.globalNorm(norm / 2).withEpsilon(1e-6);
            alone = optimizer(name).get();
            fused = TrainingStep.of(clipper.get(), optimizer(name).get());
            unfused = TrainingStep.of(clipper.get(), optimizer(name).get()).withFusion(false);
        }

        /** Runs step {@code which} (0 alone, 1 fused, 2 unfused); checks that a clipped step clipped. */
        void run(int which) {
            switch (which) {
                case 0 -> alone.step(set);
                case 1 -> requireClipped(fused.update(set));
                default -> requireClipped(unfused.update(set));
            }
        }

        private static void requireClipped(StepReport r) {
            if (!r.applied() || !r.clipped()) {
                throw new IllegalStateException("a clipped step did not clip: " + r.clip());
            }
        }
    }

    /** Compiles the three paths on small data first (see {@link JitWarmUp}). */
    private static void warmUp(String name) {
        int[] sizes = Workloads.split(4 * 8 * Workloads.ROW, 1);
        Trio t = new Trio(name, Workloads.uniform(sizes, 99), Workloads.uniform(sizes, 98));
        for (int i = 0; i < 3000; i++) {
            t.run(i % 3);
        }
    }

    private static String measure(String name, int floats, int rounds) {
        int[] sizes = Workloads.split(floats, 1);
        Trio t = new Trio(name, Workloads.uniform(sizes, ClipData.GRADIENT_SEED),
                Workloads.uniform(sizes, ClipData.PARAMETER_SEED));
        double[][] times = new double[3][rounds];
        for (int r = -2; r < rounds; r++) { // two untimed rounds first: page and cache first touches
            for (int k = 0; k < 3; k++) {
                int which = (k + Math.max(r, 0)) % 3;
                long t0 = System.nanoTime();
                t.run(which);
                long t1 = System.nanoTime();
                if (r >= 0) {
                    times[which][r] = (t1 - t0) / 1e6;
                }
            }
        }
        double[] fused = new double[rounds];
        double[] unfused = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            fused[r] = times[1][r] / times[0][r];
            unfused[r] = times[2][r] / times[0][r];
        }
        Arrays.sort(fused);
        Arrays.sort(unfused);
        return String.format(Locale.ROOT, "%.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f", min(times[0]),
                min(times[1]), min(times[2]), quantile(fused, 0.5), quantile(fused, 0.25), quantile(fused, 0.75),
                quantile(unfused, 0.5), quantile(unfused, 0.25), quantile(unfused, 0.75));
    }

    private static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    /** The q-quantile of sorted values, interpolated linearly between ranks. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
