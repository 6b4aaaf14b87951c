package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.GradientSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The row-wise {@code float32} norm path of {@link DjlGradients#norms} (tensors of 16K elements and
 * more) against {@link GradientSet}'s exact norms: ordinary values, a tail shorter than a row, values
 * whose squares overflow or underflow in {@code float32} (the exact fallback), and real NaN and
 * infinities (which must keep their meaning, not be "repaired" by the fallback).
 */
class RowNormTest {

    /**
     * A prime size (no row length divides it: the exact path), 32 rows of 1024, 30 rows of 1000 (the
     * longest divisor up to 1024), one row of 300.
     */
    private static final int[] SIZES = {40993, 32 * 1024, 30 * 1000, 300};

    @Test
    void ordinaryValuesMatchTheExactNorms() {
        check(1.0f, Float.NaN, 1e-6);
    }

    @Test
    void squaresThatOverflowFloatAreMeasuredExactly() {
        check(1e25f, Float.NaN, 1e-6);
    }

    @Test
    void squaresThatUnderflowFloatAreMeasuredExactly() {
        check(1e-30f, Float.NaN, 1e-6);
    }

    @Test
    void nanAndInfinityKeepTheirMeaning() {
        check(1.0f, Float.NaN, 1e-6, 5);
        check(1.0f, Float.POSITIVE_INFINITY, 1e-6, 5);
        check(1e25f, Float.NEGATIVE_INFINITY, 1e-6, 29999);
    }

    private static void check(float scale, float poison, double tolerance) {
        check(scale, poison, tolerance, -1);
    }

    /** Compares p = 1, 2, ∞ norms of both backends; {@code at} ≥ 0 puts {@code poison} there in tensor 2. */
    private static void check(float scale, float poison, double tolerance, int at) {
        Random r = new Random(11);
        float[][] data = new float[SIZES.length][];
        for (int t = 0; t < SIZES.length; t++) {
            data[t] = new float[SIZES[t]];
            for (int i = 0; i < SIZES[t]; i++) {
                data[t][i] = (float) r.nextGaussian() * scale;
            }
        }
        if (at >= 0) {
            data[2][at] = poison;
        }
        GradientSet.Builder eb = GradientSet.builder();
        try (NDManager m = NDManager.newBaseManager()) {
            DjlGradients.Builder b = DjlGradients.builder();
            for (int t = 0; t < SIZES.length; t++) {
                b.addGradient("t" + t, "g", m.create(data[t].clone(), new Shape(SIZES[t])), null);
                eb.add("t" + t, "g", data[t].clone(), null, SIZES[t]);
            }
            GradientSet expected = eb.build();
            try (DjlGradients actual = b.build()) {
                for (double p : new double[] {1, 2, Double.POSITIVE_INFINITY}) {
                    double[] want = new double[SIZES.length];
                    double[] got = new double[SIZES.length];
                    expected.norms(p, want);
                    actual.norms(p, got);
                    for (int t = 0; t < SIZES.length; t++) {
                        if (!Double.isFinite(want[t])) {
                            assertThat(Double.valueOf(got[t])).as("p=%s tensor %d", p, t).isEqualTo(Double.valueOf(want[t]));
                        } else {
                            assertThat(got[t]).as("p=%s tensor %d", p, t).isPositive()
                                    .isCloseTo(want[t], withinPercentage(tolerance * 100));
                        }
                    }
                }
            }
        }
    }
}
