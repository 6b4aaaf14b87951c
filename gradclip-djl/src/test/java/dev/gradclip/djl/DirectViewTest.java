package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.gradclip.GradientSet;
import dev.gradclip.djl.internal.HostReads;
import dev.gradclip.internal.Kernels;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The in-place path of {@link DjlGradients} on the PyTorch engine's CPU: DJL's
 * {@code toByteBuffer(true)} is the tensor's own memory (a write through it is what
 * {@code toFloatArray()} reads back, for plain arrays and for gradients), scaling through it gives
 * bit for bit what gradclip-core gives on a {@code float[]} (and the norms agree within 1e-6), and a view of an array that was closed
 * or replaced is never read or written.
 */
class DirectViewTest {

    @Test
    void aWriteThroughTheDirectBufferIsWhatTheTensorHolds() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(HostReadTest.gaussian(300, 1), new Shape(20, 15));
            HostReads.View view = HostReads.View.of(a);
            assertThat(view.bytes().isDirect()).isTrue();
            assertThat(view.inPlace()).isTrue();
            for (int i = 0; i < 300; i++) {
                view.bytes().putFloat(4 * i, i * 0.5f);
            }
            float[] back = a.toFloatArray();
            for (int i = 0; i < 300; i++) {
                assertThat(back[i]).isEqualTo(i * 0.5f);
            }

            NDArray w = m.create(HostReadTest.gaussian(12, 2), new Shape(3, 4));
            w.setRequiresGradient(true);
            try (GradientCollector c = m.getEngine().newGradientCollector()) {
                c.backward(w.mul(m.full(new Shape(), 3f)).sum());
            }
            NDArray grad = w.getGradient();
            HostReads.View g = HostReads.View.of(grad);
            assertThat(g.inPlace()).isTrue();
            g.bytes().putFloat(4 * 5, -7f);
            assertThat(w.getGradient().toFloatArray()[5]).as("read through a new gradient handle").isEqualTo(-7f);
            assertThat(w.getGradient().toFloatArray()[4]).isEqualTo(3f);
        }
    }

    @Test
    void aTransposedViewIsReadThroughACopyThatIsNeverWritten() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray t = m.create(HostReadTest.gaussian(40, 3), new Shape(8, 5)).transpose();
            assertThat(HostReads.View.of(t).inPlace()).isFalse();
        }
    }

    @Test
    void scalingInPlaceIsBitForBitTheCoreKernelsOnAnArray() {
        int[] sizes = {1, 7, 64, 1000, 70_001};
        float[][] data = new float[sizes.length][];
        for (int t = 0; t < sizes.length; t++) {
            data[t] = HostReadTest.gaussian(sizes[t], 10 + t);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            DjlGradients.Builder b = DjlGradients.builder();
            NDArray[] arrays = new NDArray[sizes.length];
            for (int t = 0; t < sizes.length; t++) {
                arrays[t] = m.create(data[t]);
                b.addGradient("t" + t, "g", arrays[t], null);
            }
            GradientSet expected = GradientSet.of(cloneAll(data));
            double[] want = new double[sizes.length];
            double[] got = new double[sizes.length];
            try (DjlGradients actual = b.build()) {
                expected.norms(2, want);
                actual.norms(2, got);
                // the vector loops start where each memory is aligned: at a tensor's start, and 16
                // bytes into a heap array; so the sums round differently, within the kernels' bound,
                // and are bit for bit the array kernels' on the floats placed at the tensor's alignment
                // (array index 12, as a heap array's element j sits at buffer index j + 4)
                for (int t = 0; t < sizes.length; t++) {
                    assertThat(got[t]).as("norm of tensor %d", t).isCloseTo(want[t], withinPercentage(1e-4));
                    float[] aligned = new float[12 + sizes[t]];
                    System.arraycopy(data[t], 0, aligned, 12, sizes[t]);
                    assertThat(got[t]).as("norm of tensor %d at its alignment", t)
                            .isEqualTo(Math.sqrt(Kernels.get().sumOfSquares(aligned, 12, aligned.length)));
                }
                for (int t = 0; t < sizes.length; t++) {
                    expected.scale(t, 0.3);
                    actual.scale(t, 0.3);
                    expected.scale(t, 1e-42);
                    actual.scale(t, 1e-42);
                }
            }
            for (int t = 0; t < sizes.length; t++) {
                float[] w = new float[sizes[t]];
                for (int i = 0; i < w.length; i++) {
                    w[i] = expected.get(t, i);
                }
                assertThat(arrays[t].toFloatArray()).as("tensor %d", t).isEqualTo(w);
            }
        }
    }

    private static float[][] cloneAll(float[][] data) {
        float[][] out = new float[data.length][];
        for (int i = 0; i < data.length; i++) {
            out[i] = data[i].clone();
        }
        return out;
    }

    @Test
    void anArrayReplacedByInternIsReadAndWrittenThroughAFreshView() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(HostReadTest.gaussian(50, 4));
            try (DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, null).build()) {
                double[] out = new double[1];
                view.norms(2, out);
                float[] replacement = new float[50];
                java.util.Arrays.fill(replacement, 2f);
                g.intern(m.create(replacement));
                view.norms(2, out);
                assertThat(out[0]).isEqualTo(Math.sqrt(50 * 4.0));
                view.scale(0, 0.5);
                assertThat(g.toFloatArray()).containsOnly(1f);
            }
        }
    }

    @Test
    void aClosedArrayIsNeitherReadNorWritten() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(HostReadTest.gaussian(50, 5));
            DjlGradients view = DjlGradients.builder().addGradient("w", "g", g, null).build();
            double[] out = new double[1];
            view.norms(2, out);
            ByteBuffer stale = HostReads.View.of(g).bytes();
            assertThat(stale.capacity()).isEqualTo(200);
            g.close();
            assertThatThrownBy(() -> view.scale(0, 0.5)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> view.norms(2, out)).isInstanceOf(IllegalStateException.class);
        }
    }
}
