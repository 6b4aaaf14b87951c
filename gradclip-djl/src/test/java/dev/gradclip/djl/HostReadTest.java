package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.GradientSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The host-read path of {@link DjlGradients} (small tensors on the CPU read in place through a direct
 * buffer): agreement with the device operations at the size boundary, reads that follow writes, and
 * a non-contiguous gradient, which DJL can only expose through a contiguous copy.
 */
class HostReadTest {

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void hostAndDeviceNormsAgreeAcrossTheSizeBoundary() {
        // every CPU tensor is read on the host now; 4096 was the old limit, and 7, 4096 and 4097
        // elements take the SIMD kernels' scalar tail, their float blocks, and both
        int small = 4096;
        float[][] data = {gaussian(small, 1), gaussian(small + 1, 2), gaussian(7, 3)};
        try (NDManager m = NDManager.newBaseManager()) {
            for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
                double[] host = norms(m, data, p, true);
                double[] device = norms(m, data, p, false);
                for (int t = 0; t < data.length; t++) {
                    assertThat(host[t]).as("p=%s tensor %d", p, t).isPositive()
                            .isCloseTo(device[t], withinPercentage(1e-4));
                }
            }
        }
    }

    private static double[] norms(NDManager m, float[][] data, double p, boolean hostReads) {
        DjlGradients.Builder b = DjlGradients.builder().hostReads(hostReads);
        for (int t = 0; t < data.length; t++) {
            b.addGradient("t" + t, "g", m.create(data[t]), null);
        }
        double[] out = new double[data.length];
        try (DjlGradients g = b.build()) {
            g.norms(p, out);
        }
        return out;
    }

    @Test
    void aReadAfterAWriteSeesTheWrite() {
        float[] x = gaussian(40, 5);
        try (NDManager m = NDManager.newBaseManager(); DjlGradients g = DjlGradients.builder()
                .addGradient("w", "g", m.create(x, new Shape(8, 5)), null).build()) {
            double[] before = new double[1];
            double[] after = new double[1];
            g.norms(2, before);
            g.scale(0, 0.25);
            g.norms(2, after);
            assertThat(after[0]).isCloseTo(before[0] / 4, withinPercentage(1e-5));
            g.clamp(0, 0.01);
            g.norms(Double.POSITIVE_INFINITY, after);
            assertThat(after[0]).isEqualTo(0.01f);
        }
    }

    @Test
    void aNonContiguousGradientIsReadCorrectlyAndWrittenInPlace() {
        float[] x = gaussian(40, 7);
        GradientSet expected = GradientSet.of(x.clone());
        double[] want = new double[1];
        expected.norms(2, want);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray base = m.create(x, new Shape(8, 5));
            NDArray view = base.transpose();
            try (DjlGradients g = DjlGradients.builder().addGradient("w", "g", view, null).build()) {
                double[] got = new double[1];
                g.norms(2, got);
                assertThat(got[0]).isCloseTo(want[0], withinPercentage(1e-5));
                g.scale(0, 0.5);
                g.norms(2, got);
                assertThat(got[0]).as("the norm after scaling the view").isCloseTo(want[0] / 2, withinPercentage(1e-5));
            }
            float[] written = base.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertThat(written[i]).isEqualTo(x[i] * 0.5f);
            }
        }
    }

    /**
     * AGC's unit norms on every path: host reads, {@code float32} unit norms on the device, and the
     * exact {@code float64} fallback (units over 1024 elements, squares that overflow or underflow in
     * {@code float32}), for gradients and parameters.
     */
    @Test
    void unitNormsAgreeOnEveryPath() {
        long[][] shapes = {{8, 5}, {4, 2000}, {6, 7}, {6, 7}, {9}};
        float[] scales = {1f, 1f, 1e25f, 1e-30f, 1f};
        float[][] grads = new float[shapes.length][];
        float[][] params = new float[shapes.length][];
        GradientSet.Builder eb = GradientSet.builder();
        for (int t = 0; t < shapes.length; t++) {
            int n = (int) new Shape(shapes[t]).size();
            grads[t] = gaussian(n, 10 + t);
            params[t] = gaussian(n, 20 + t);
            for (int i = 0; i < n; i++) {
                grads[t][i] *= scales[t];
                params[t][i] *= scales[t];
            }
            eb.add("t" + t, "g", grads[t].clone(), params[t].clone(), shapes[t]);
        }
        GradientSet expected = eb.build();
        try (NDManager m = NDManager.newBaseManager()) {
            for (boolean hostReads : new boolean[] {true, false}) {
                DjlGradients.Builder b = DjlGradients.builder().hostReads(hostReads);
                for (int t = 0; t < shapes.length; t++) {
                    b.addGradient("t" + t, "g", m.create(grads[t], new Shape(shapes[t])),
                            m.create(params[t], new Shape(shapes[t])));
                }
                try (DjlGradients actual = b.build()) {
                    for (int t = 0; t < shapes.length; t++) {
                        for (boolean parameter : new boolean[] {false, true}) {
                            int units = expected.unitCount(t);
                            double[] want = new double[units];
                            double[] got = new double[units];
                            expected.unitNorms(t, parameter, want);
                            actual.unitNorms(t, parameter, got);
                            for (int u = 0; u < units; u++) {
                                assertThat(got[u]).as("host %s tensor %d parameter %s unit %d", hostReads, t,
                                        parameter, u).isPositive().isCloseTo(want[u], withinPercentage(1e-4));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void aGradientClosedByItsOwnerIsNotReadThroughAStaleBuffer() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(gaussian(40, 9), new Shape(8, 5));
            DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, null).build();
            double[] out = new double[1];
            view.norms(2, out);
            g.close();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> view.norms(2, out))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
