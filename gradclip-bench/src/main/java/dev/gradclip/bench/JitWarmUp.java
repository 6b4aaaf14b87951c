package dev.gradclip.bench;

import dev.gradclip.GradientSet;
import java.util.function.Consumer;

/**
 * Compiles the hot code on small data before a benchmark allocates its large arrays. The first
 * call of a vector kernel runs interpreted, where {@code jdk.incubator.vector} is hundreds of times
 * slower than compiled; on 64M floats that first call alone takes seconds. A few thousand calls on
 * 32K floats get the same methods compiled by C2 in a fraction of a second, so the measured warm-up
 * iterations start compiled.
 */
final class JitWarmUp {

    private static final int TENSORS = 4;
    private static final int FLOATS = 8 * Workloads.ROW;
    private static final int CALLS = 3000;

    private JitWarmUp() {
    }

    /**
     * Runs {@code operation} {@value #CALLS} times on a small fresh gradient set with parameters.
     *
     * @param operation what the benchmark will measure
     */
    static void run(Consumer<GradientSet> operation) {
        int[] sizes = Workloads.split(TENSORS * FLOATS, TENSORS);
        float[][] grads = Workloads.uniform(sizes, 99);
        float[][] params = Workloads.uniform(sizes, 98);
        float[][] pristine = ClipData.copy(grads);
        GradientSet set = Workloads.gradientSet(grads, params);
        for (int i = 0; i < CALLS; i++) {
            // restored before every call (32K floats, microseconds), so that a clip that writes meets
            // unclipped data each time, as in the measurement: compiled on already clipped data, its
            // write branch would be an uncommon trap, and the measurement would deoptimize it
            Workloads.restore(pristine, grads);
            operation.accept(set);
        }
    }
}
