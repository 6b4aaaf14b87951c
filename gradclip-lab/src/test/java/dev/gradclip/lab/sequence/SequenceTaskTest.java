package dev.gradclip.lab.sequence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Pascanu et al. 2013 generators follow lab-tasks.md exactly; the smart-tanh initialisation. */
class SequenceTaskTest {

    @Test
    void addingAndMultiplicationMarkTwoPositionsInTheirRanges() {
        for (SequenceTask task : new SequenceTask[] {SequenceTask.ADDING, SequenceTask.MULTIPLICATION}) {
            Random r = new Random(1);
            double targetSum = 0;
            int count = 0;
            for (int rep = 0; rep < 50; rep++) {
                SequenceBatch b = task.generate(20, 50, r);
                assertThat(b.length()).isBetween(50, 54);
                assertThat(b.channels()).isEqualTo(2);
                int l = b.length();
                for (int s = 0; s < 20; s++) {
                    int p0 = -1;
                    int p1 = -1;
                    for (int t = 0; t < l; t++) {
                        assertThat(b.input(s, t, 1)).isBetween(0f, 1f);
                        float mark = b.input(s, t, 0);
                        assertThat(mark).isIn(0f, 1f);
                        if (mark == 1f) {
                            if (p0 < 0) {
                                p0 = t;
                            } else {
                                assertThat(p1).as("two markers only").isEqualTo(-1);
                                p1 = t;
                            }
                        }
                    }
                    assertThat(p0).isBetween(0, l / 10 - 1);
                    assertThat(p1).isBetween(l / 10, l / 10 + 4 * l / 10 - 1);
                    float a = b.input(s, p0, 1);
                    float c = b.input(s, p1, 1);
                    float expected = task == SequenceTask.ADDING ? (a + c) / 2f : a * c;
                    assertThat(b.targets()[s]).isEqualTo(expected);
                    targetSum += b.targets()[s];
                    count++;
                }
            }
            // the mean of two U(0,1) averages 0.5; their product 0.25
            assertThat(targetSum / count).isCloseTo(task == SequenceTask.ADDING ? 0.5 : 0.25, within(0.03));
        }
    }

    @Test
    void temporalOrderIsOneHotWithTwoSymbolsAmongNoise() {
        Random r = new Random(2);
        int[] classes = new int[4];
        for (int rep = 0; rep < 40; rep++) {
            SequenceBatch b = SequenceTask.TEMPORAL_ORDER.generate(25, 40, r);
            int l = b.length();
            assertThat(l).isBetween(40, 43);
            for (int s = 0; s < 25; s++) {
                int[] symbols = new int[l];
                for (int t = 0; t < l; t++) {
                    int hot = -1;
                    for (int c = 0; c < 6; c++) {
                        float v = b.input(s, t, c);
                        assertThat(v).isIn(0f, 1f);
                        if (v == 1f) {
                            assertThat(hot).as("one-hot").isEqualTo(-1);
                            hot = c;
                        }
                    }
                    assertThat(hot).isBetween(0, 5);
                    symbols[t] = hot;
                }
                int v0 = -1;
                int v1 = -1;
                for (int t = 0; t < l; t++) {
                    if (symbols[t] < 2) {
                        if (v0 < 0) {
                            v0 = symbols[t];
                            assertThat(t).isBetween(l / 10, 2 * (l / 10) - 1);
                        } else {
                            v1 = symbols[t];
                            assertThat(t).isBetween(5 * l / 10, 5 * l / 10 + l / 10 - 1);
                        }
                    }
                }
                assertThat(v1).as("two relevant symbols").isGreaterThanOrEqualTo(0);
                assertThat(b.targets()[s]).isEqualTo(v0 + 2f * v1);
                classes[v0 + 2 * v1]++;
            }
        }
        for (int c : classes) {
            assertThat(c).as("every class occurs").isGreaterThan(150);
        }
    }

    @Test
    void sameRandomSameBatch() {
        SequenceBatch a = SequenceTask.ADDING.generate(5, 30, new Random(7));
        SequenceBatch b = SequenceTask.ADDING.generate(5, 30, new Random(7));
        assertThat(a.inputs()).containsExactly(b.inputs());
        assertThat(a.targets()).containsExactly(b.targets());
    }

    @Test
    void shortSequencesStillWork() {
        SequenceBatch b = SequenceTask.TEMPORAL_ORDER.generate(3, 5, new Random(1));
        assertThat(b.length()).isEqualTo(5);
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> SequenceTask.ADDING.generate(0, 50, new Random()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchSize").hasMessageContaining("0");
        assertThatThrownBy(() -> SequenceTask.fromId("sorting")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sorting");
        assertThat(SequenceTask.fromId("temporal-order")).isEqualTo(SequenceTask.TEMPORAL_ORDER);
        assertThatThrownBy(() -> RnnInit.parse("normal:-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RnnInit.parse("xavier")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("xavier");
        assertThat(RnnInit.parse("normal:0.3").sigma()).isEqualTo(0.3);
        assertThat(RnnInit.parse("basic-tanh").sigma()).isEqualTo(0.1);
    }

    @Test
    void spectralRadiusOfKnownMatrices() {
        // a rotation by 90 degrees scaled by 0.7: eigenvalues ±0.7i, where power iteration fails
        assertThat(RnnInit.spectralRadius(new double[] {0, -0.7, 0.7, 0}, 2)).isCloseTo(0.7, within(1e-9));
        // triangular: the eigenvalues are the diagonal
        assertThat(RnnInit.spectralRadius(new double[] {0.5, 3, 1, 0, -1.25, 2, 0, 0, 0.1}, 3))
                .isCloseTo(1.25, within(1e-6));
        assertThat(RnnInit.spectralRadius(new double[] {0, 1, 0, 0}, 2)).isZero();
    }

    @Test
    void smartTanhHasFifteenNonZerosPerRowAndRadiusPointNineFive() {
        float[] w = RnnInit.smartTanh().recurrent(50, new Random(3));
        double[] d = new double[w.length];
        for (int r = 0; r < 50; r++) {
            int nonZeros = 0;
            for (int c = 0; c < 50; c++) {
                nonZeros += w[r * 50 + c] != 0 ? 1 : 0;
                d[r * 50 + c] = w[r * 50 + c];
            }
            assertThat(nonZeros).isEqualTo(15);
        }
        assertThat(RnnInit.spectralRadius(d, 50)).isCloseTo(0.95, within(1e-4));
    }
}
