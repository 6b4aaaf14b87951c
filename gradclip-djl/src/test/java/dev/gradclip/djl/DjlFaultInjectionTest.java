package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.GradientSet;
import dev.gradclip.faults.FaultInjector;
import dev.gradclip.faults.Injection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link DjlGradients#set} and fault injection give the same gradients as on {@code float[]}. */
class DjlFaultInjectionTest {

    private static final String[] NAMES = {"rnn.weight", "rnn.bias", "scale", "empty"};
    private static final long[][] SHAPES = {{3, 2, 4}, {5}, {}, {0}};
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static float[] values(int t) {
        float[] v = new float[(int) new Shape(SHAPES[t]).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.25f * (i + 1) * (t + 1);
        }
        return v;
    }

    @Test
    void injectedFaultsLandOnTheSameElementsAsOnArrays() {
        FaultInjector faults = FaultInjector.builder().seed(3).nonFiniteRate(0.7).spike(0.5, 100).build();
        for (long step = 0; step < 12; step++) {
            GradientSet.Builder hb = GradientSet.builder();
            DjlGradients.Builder db = DjlGradients.builder();
            NDArray[] arrays = new NDArray[NAMES.length];
            for (int t = 0; t < NAMES.length; t++) {
                hb.add(NAMES[t], values(t), SHAPES[t]);
                arrays[t] = manager.create(values(t), new Shape(SHAPES[t]));
                db.addGradient(NAMES[t], NAMES[t], arrays[t], null);
            }
            GradientSet host = hb.build();
            Injection onHost = faults.inject(step, host);
            Injection onDevice = faults.inject(step, db.build());

            assertThat(onDevice).isEqualTo(onHost);
            for (int t = 0; t < NAMES.length; t++) {
                assertThat(arrays[t].toFloatArray()).as("step %d tensor %s", step, NAMES[t])
                        .usingElementComparator(Float::compare).containsExactly(box(host.gradient(t)));
            }
        }
    }

    @Test
    void setChecksItsIndex() {
        NDArray g = manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
        DjlGradients d = DjlGradients.builder().addGradient("g", "g", g, null).build();
        d.set(0, 5, Float.NaN);
        d.set(0, 1, -7f);
        assertThat(g.toFloatArray()).usingElementComparator(Float::compare).containsExactly(1f, -7f, 3f, 4f, 5f, Float.NaN);
        assertThat(d.get(0, 1)).isEqualTo(-7f);
        assertThatThrownBy(() -> d.set(0, 6, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> d.set(0, -1, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> d.set(1, 0, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
