package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.ClipReport;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.Gradients;
import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.Kernels;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * AGC on CPU tensors read in place: the unit norms of gradients and parameter values through the
 * buffer kernels over the tensors' own memory, the per-unit factors applied there, leave bit for bit
 * what gradclip-core's array kernels of the same kind give on the same floats laid out at the same
 * alignment (a tensor's memory is aligned at its start; a heap array's element {@code j} sits as
 * buffer index {@code j + 4}, so the reference copies each tensor to index {@value #ALIGNED} of a
 * {@code float[]}), on shapes whose units leave every sort of head and tail around the SIMD blocks
 * (the Fashion-MNIST MLP's 256 × 784 weight with dead units, rows shorter than a block, units over
 * 1024 elements, a convolution, vectors) and with factors outside the normal float range. The view
 * of the parameter values, kept for a step, is fetched again after {@code close()} and whenever the
 * parameter array holds another tensor, and a closed parameter array is never read.
 */
class AgcInPlaceTest {

    /** The index of a {@code float[]} at which the array kernels see a tensor's alignment. */
    private static final int ALIGNED = 12;

    private static final long[][] SHAPES = {{256, 784}, {256}, {10, 256}, {50, 50}, {3, 1300}, {7, 37},
        {8, 3, 3, 3}, {1}};

    /** Gradients and parameter values: mixed magnitudes, dead (zero) units, one unit scaled by about 1e-38. */
    private static float[][][] data(long seed) {
        Random r = new Random(seed);
        float[][] grads = new float[SHAPES.length][];
        float[][] params = new float[SHAPES.length][];
        for (int t = 0; t < SHAPES.length; t++) {
            int n = (int) new Shape(SHAPES[t]).size();
            int units = SHAPES[t].length >= 2 ? (int) SHAPES[t][0] : 1;
            int per = n / units;
            grads[t] = new float[n];
            params[t] = new float[n];
            for (int u = 0; u < units; u++) {
                boolean dead = units > 1 && r.nextInt(9) == 0;
                double magnitude = Math.pow(10, -5 + 4 * r.nextDouble());
                for (int i = u * per; i < (u + 1) * per; i++) {
                    grads[t][i] = dead ? 0f : (float) (r.nextGaussian() * magnitude);
                    params[t][i] = (float) (r.nextGaussian() * 0.05);
                }
            }
        }
        // a unit whose factor, about 1e-38, is below the smallest normal float: applied in exact steps
        for (int i = 0; i < 50; i++) {
            grads[3][50 + i] = (float) (r.nextGaussian() * 1e34);
            params[3][50 + i] = (float) (r.nextGaussian() * 1e-6);
        }
        return new float[][][] {grads, params};
    }

    private static long[] bits(double[] v) {
        return Arrays.stream(v).mapToLong(Double::doubleToRawLongBits).toArray();
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    /**
     * A {@link GradientSet} whose unit norms are measured as the buffer kernels measure a tensor:
     * with the array kernels over a copy at {@link #ALIGNED}; everything else is the set's.
     */
    private static Gradients alignedUnitNorms(GradientSet set, float[][] params) {
        FloatKernels k = Kernels.get();
        return (Gradients) Proxy.newProxyInstance(Gradients.class.getClassLoader(), new Class<?>[] {Gradients.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("unitNorms")) {
                        try {
                            return method.invoke(set, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                    int t = (Integer) args[0];
                    float[] values = (Boolean) args[1] ? params[t] : set.gradient(t);
                    double[] out = (double[]) args[2];
                    float[] copy = new float[ALIGNED + values.length];
                    System.arraycopy(values, 0, copy, ALIGNED, values.length);
                    int units = set.unitCount(t);
                    int per = values.length / units;
                    for (int u = 0; u < units; u++) {
                        out[u] = Math.sqrt(k.sumOfSquares(copy, ALIGNED + u * per, ALIGNED + (u + 1) * per));
                    }
                    return null;
                });
    }

    @Test
    void agcOnCpuTensorsIsBitForBitTheArrayKernelsAtTheTensorsAlignment() {
        for (long seed = 1; seed <= 3; seed++) {
            float[][][] d = data(seed);
            GradientSet.Builder sb = GradientSet.builder();
            DjlGradients.Builder db = DjlGradients.builder();
            NDArray[] grads = new NDArray[SHAPES.length];
            try (NDManager m = NDManager.newBaseManager()) {
                for (int t = 0; t < SHAPES.length; t++) {
                    sb.add("t" + t, "g", d[0][t].clone(), d[1][t].clone(), SHAPES[t]);
                    grads[t] = m.create(d[0][t], new Shape(SHAPES[t]));
                    db.addGradient("t" + t, "g", grads[t], m.create(d[1][t], new Shape(SHAPES[t])));
                }
                GradientSet heap = sb.build();
                Gradients reference = alignedUnitNorms(heap, d[1]);
                try (DjlGradients cpu = db.build()) {
                    for (int t = 0; t < SHAPES.length; t++) {
                        for (boolean parameter : new boolean[] {false, true}) {
                            double[] want = new double[heap.unitCount(t)];
                            double[] got = new double[cpu.unitCount(t)];
                            reference.unitNorms(t, parameter, want);
                            cpu.unitNorms(t, parameter, got);
                            assertThat(bits(got)).as("seed %d tensor %d parameter %s unit norms", seed, t,
                                    parameter).isEqualTo(bits(want));
                        }
                    }
                    ClipReport expected = Clippers.agc(0.01).clip(reference);
                    ClipReport actual = Clippers.agc(0.01).clip(cpu);
                    assertThat(actual.clippedCount()).as("seed %d units clipped", seed)
                            .isEqualTo(expected.clippedCount()).isPositive();
                    for (int t = 0; t < SHAPES.length; t++) {
                        assertThat(bits(grads[t].toFloatArray())).as("seed %d tensor %d after AGC", seed, t)
                                .isEqualTo(bits(heap.gradient(t)));
                    }
                }
            }
        }
    }

    @Test
    void parameterValuesSetAnewBetweenStepsAreReadAfresh() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(40, 1), new Shape(8, 5));
            NDArray g = m.create(HostReadTest.gaussian(40, 2), new Shape(8, 5));
            try (DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, w).build()) {
                double[] norms = new double[8];
                view.unitNorms(0, true, norms);
                view.unitNorms(0, true, norms);
                view.close();
                // set(Buffer) points the tensor at new memory under the same native handle
                float[] twos = new float[40];
                Arrays.fill(twos, 2f);
                w.set(FloatBuffer.wrap(twos));
                view.unitNorms(0, true, norms);
                assertThat(norms).containsOnly(Math.sqrt(5 * 4.0));
            }
        }
    }

    @Test
    void aParameterArrayHoldingAnotherTensorIsReadAfreshWithinAStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(40, 3), new Shape(8, 5));
            NDArray g = m.create(HostReadTest.gaussian(40, 4), new Shape(8, 5));
            try (DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, w).build()) {
                double[] norms = new double[8];
                view.unitNorms(0, true, norms);
                float[] threes = new float[40];
                Arrays.fill(threes, 3f);
                // intern swaps the native tensor under the same Java array
                w.intern(m.create(threes, new Shape(8, 5)));
                view.unitNorms(0, true, norms);
                assertThat(norms).containsOnly(Math.sqrt(5 * 9.0));
            }
        }
    }

    @Test
    void aClosedParameterArrayIsNotRead() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(HostReadTest.gaussian(40, 5), new Shape(8, 5));
            NDArray g = m.create(HostReadTest.gaussian(40, 6), new Shape(8, 5));
            try (DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, w).build()) {
                double[] norms = new double[8];
                view.unitNorms(0, true, norms);
                w.close();
                assertThatThrownBy(() -> view.unitNorms(0, true, norms)).isInstanceOf(IllegalStateException.class);
            }
        }
    }
}
