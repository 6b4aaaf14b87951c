package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.engine.Engine;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A parameter held as several device copies (as DJL's ParameterStore does for multi-device
 * training; here two copies on the CPU, since DJL treats every CPU index as one device): the clipper
 * sees the sum of the copies' gradients, and after clipping the sum of the copies, which DJL's
 * LocalParameterServer hands to the optimizer, equals the clipped sum.
 */
class DeviceCopiesTest {

    private static final long[][] SHAPES = {{6, 4}, {6}};

    @Test
    void globalNormIsThatOfTheSummedGradientAndScalesEveryCopy() {
        check(Clippers.globalNorm(0.5), 1.0f, Float.NaN);
        check(Clippers.globalNorm(0.5).withNormType(Double.POSITIVE_INFINITY), 1.0f, Float.NaN);
    }

    @Test
    void valueClippingReducesIntoTheFirstCopy() {
        DjlGradients g = check(Clippers.value(0.2), 1.0f, Float.NaN);
        assertThat(g).isNotNull();
    }

    @Test
    void agcUsesSummedUnitNorms() {
        check(Clippers.agc(0.05), 1.0f, Float.NaN);
    }

    @Test
    void zeroPolicyZeroesNonFiniteValuesOfTheSum() {
        check(Clippers.globalNorm(0.5).withNonFinitePolicy(NonFinitePolicy.ZERO), 1.0f, Float.POSITIVE_INFINITY);
    }

    /**
     * Back-propagates into two copies of each parameter, clips through {@link DjlGradients} and
     * compares the copies' sum with {@link GradientSet} clipping the summed gradient.
     */
    private static DjlGradients check(Clipper clipper, float scale, float poison) {
        Random r = new Random(5);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[][] copies = new NDArray[SHAPES.length][2];
            float[][] params = new float[SHAPES.length][];
            float[][] coefs = new float[SHAPES.length * 2][];
            for (int t = 0; t < SHAPES.length; t++) {
                int n = (int) new Shape(SHAPES[t]).size();
                params[t] = new float[n];
                for (int i = 0; i < n; i++) {
                    params[t][i] = (float) r.nextGaussian();
                }
                for (int c = 0; c < 2; c++) {
                    copies[t][c] = m.create(params[t], new Shape(SHAPES[t]));
                    copies[t][c].setRequiresGradient(true);
                    coefs[t * 2 + c] = new float[n];
                    for (int i = 0; i < n; i++) {
                        coefs[t * 2 + c][i] = (float) (r.nextGaussian() * scale);
                    }
                }
            }
            if (!Float.isNaN(poison)) {
                coefs[1][2] = poison; // tensor 0, copy 1
            }
            // loss = Σ coef · w over every copy, so each copy's gradient is its coefficient array
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = null;
                for (int t = 0; t < SHAPES.length; t++) {
                    for (int c = 0; c < 2; c++) {
                        NDArray term = copies[t][c].mul(m.create(coefs[t * 2 + c], new Shape(SHAPES[t]))).sum();
                        loss = loss == null ? term : loss.add(term);
                    }
                }
                gc.backward(loss);
            }
            GradientSet.Builder sb = GradientSet.builder();
            DjlGradients.Builder db = DjlGradients.builder();
            for (int t = 0; t < SHAPES.length; t++) {
                float[] sum = new float[coefs[t * 2].length];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = coefs[t * 2][i] + coefs[t * 2 + 1][i];
                }
                sb.add("w" + t, "layer", sum, params[t], SHAPES[t]);
                db.addParameter("w" + t, "layer", copies[t][0], copies[t][1]);
            }
            GradientSet heap = sb.build();
            DjlGradients device = db.build();
            assertThat(device.copyCount(0)).isEqualTo(2);
            ClipReport expected = clipper.clip(heap);
            ClipReport actual = clipper.withNonFinitePolicy(clipper.nonFinitePolicy()).clip(device);
            assertThat(expected.clipped()).as("the test data must need clipping").isTrue();
            CrossBackendTest.assertReportsAgree(clipper.toString(), expected, actual);
            for (int t = 0; t < SHAPES.length; t++) {
                float[] a = copies[t][0].getGradient().toFloatArray();
                float[] b = copies[t][1].getGradient().toFloatArray();
                float[] sum = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    sum[i] = a[i] + b[i];
                }
                // each copy is rounded to float after scaling, so the sum carries an error relative to
                // the copies' magnitudes, not to the (possibly cancelling) sum's
                double scaleOfCopies = 0;
                for (int i = 0; i < a.length; i++) {
                    scaleOfCopies = Math.max(scaleOfCopies, Math.max(Math.abs(a[i]), Math.abs(b[i])));
                }
                float[] expectedSum = heap.gradient(t);
                for (int i = 0; i < a.length; i++) {
                    assertThat((double) sum[i]).as(clipper + " w" + t + " sum of copies [" + i + "]")
                            .isCloseTo(expectedSum[i], org.assertj.core.data.Offset.offset(1e-6 * scaleOfCopies));
                }
            }
            return device;
        }
    }
}
