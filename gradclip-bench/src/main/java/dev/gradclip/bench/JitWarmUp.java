package dev.gradclip.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.djl.DjlGradients;
import java.nio.FloatBuffer;
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

    /**
     * The same for gradclip-djl's clip path on the CPU (the buffer kernels over the tensors' own
     * memory, the views, the reports): {@value #CALLS} clips, in turn global norm over and under the
     * threshold, AGC and ZClip, of NDArrays of 1, 50, 2,500 and 8,192 elements (the RNN's sizes and a
     * block-sized one), each view closed after its clip as a training loop closes it. Call it after
     * DJL's engine properties are set.
     */
    static void runDjl() {
        long[][] shapes = {{1}, {50}, {50, 50}, {8, Workloads.ROW}};
        int[] sizes = new int[shapes.length];
        for (int t = 0; t < shapes.length; t++) {
            sizes[t] = (int) new Shape(shapes[t]).size();
        }
        float[][] pristine = Workloads.uniform(sizes, 99);
        float[][] params = Workloads.uniform(sizes, 98);
        Clipper[] clippers = {Clippers.globalNorm(1e-3), Clippers.globalNorm(1e9), Clippers.agc(0.01),
            Clippers.zClip()};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] g = new NDArray[shapes.length];
            DjlGradients.Builder b = DjlGradients.builder();
            for (int t = 0; t < shapes.length; t++) {
                g[t] = m.create(pristine[t], new Shape(shapes[t]));
                b.addGradient("t" + t, "g" + t, g[t], m.create(params[t], new Shape(shapes[t])));
            }
            DjlGradients view = b.build();
            for (int i = 0; i < CALLS; i++) {
                clippers[i % clippers.length].clip(view);
                view.close();
                if (i % 16 == 15) {
                    for (int t = 0; t < g.length; t++) {
                        g[t].set(FloatBuffer.wrap(pristine[t]));
                    }
                }
            }
        }
    }
}
