package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The four non-finite policies on every fixed clipper, and the report's non-finite and attribution
 * fields.
 */
@Tag("kernels")
class NonFinitePolicyTest {

    static final float NAN_PAYLOAD = Float.intBitsToFloat(0x7fc0beef);

    /** Three tensors: "a" finite, "b" [3, 4] with NaN at flat index 5, "c" with -inf at index 0. */
    static float[][] gradients() {
        float[] a = new float[40];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7 - 3) * 0.25f;
        }
        float[] b = new float[12];
        for (int i = 0; i < b.length; i++) {
            b[i] = i - 6.5f;
        }
        b[5] = NAN_PAYLOAD;
        b[9] = Float.POSITIVE_INFINITY;
        float[] c = new float[100];
        java.util.Arrays.fill(c, 1e-3f);
        c[0] = Float.NEGATIVE_INFINITY;
        return new float[][] {a, b, c};
    }

    static GradientSet set(float[][] g) {
        return GradientSet.builder()
                .add("a", g[0], ones(g[0].length), 40)
                .add("b", g[1], ones(g[1].length), 3, 4)
                .add("c", g[2], ones(g[2].length), 10, 10)
                .build();
    }

    static float[] ones(int n) {
        float[] w = new float[n];
        java.util.Arrays.fill(w, 1f);
        return w;
    }

    static Stream<Named<Clipper>> clippers() {
        return Stream.of(
                Named.of("global-norm", Clippers.globalNorm(0.1)),
                Named.of("global-norm p=1", Clippers.globalNorm(0.1).withNormType(1)),
                Named.of("global-norm p=inf", Clippers.globalNorm(0.1).withNormType(Double.POSITIVE_INFINITY)),
                Named.of("global-norm pytorch", Clippers.globalNorm(0.1).withEpsilon(NormClipper.PYTORCH_EPSILON)),
                Named.of("norm", Clippers.norm(0.1)),
                Named.of("group-norm", Clippers.groupNorm(0.1)),
                Named.of("renormalize", Clippers.renormalize(NormScope.TENSOR)),
                Named.of("value", Clippers.value(0.1)),
                Named.of("agc", Clippers.agc(0.01)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void throwNamesTheFirstTensorAndElementAndLeavesGradientsUntouched(Clipper clipper) {
        float[][] g = gradients();
        float[][] before = ClipperPropertiesTest.deepCopy(g);
        assertThat(clipper.nonFinitePolicy()).isEqualTo(NonFinitePolicy.THROW);
        assertThatThrownBy(() -> clipper.clip(set(g)))
                .isInstanceOfSatisfying(NonFiniteGradientException.class, e -> {
                    assertThat(e.tensorName()).isEqualTo("b");
                    assertThat(e.elementIndex()).isEqualTo(5);
                    assertThat(e.value()).isNaN();
                    assertThat(e.nonFiniteCount()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("'b'", "element 5", "NaN", "3 non-finite");
                })
                .isInstanceOf(ArithmeticException.class);
        ClipperPropertiesTest.assertBitwiseEqual(g, before, "after THROW");
    }

    @Test
    void throwReportsAnInfinityWithItsSign() {
        float[][] g = {{1f, 2f}, {3f, Float.NEGATIVE_INFINITY, Float.NaN}};
        assertThatThrownBy(() -> Clippers.norm(1).clip(GradientSet.of(g)))
                .isInstanceOfSatisfying(NonFiniteGradientException.class, e -> {
                    assertThat(e.tensorName()).isEqualTo("grads[1]");
                    assertThat(e.elementIndex()).isEqualTo(1);
                    assertThat(e.value()).isEqualTo(Float.NEGATIVE_INFINITY);
                    assertThat(e.nonFiniteCount()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("-Infinity");
                });
        assertThat(g[1][1]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(g[0]).containsExactly(1f, 2f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void skipReportsTheStepAndLeavesGradientsUntouched(Clipper clipper) {
        float[][] g = gradients();
        float[][] before = ClipperPropertiesTest.deepCopy(g);
        ClipReport report = clipper.withNonFinitePolicy(NonFinitePolicy.SKIP).clip(set(g));
        ClipperPropertiesTest.assertBitwiseEqual(g, before, "after SKIP");
        assertThat(report.skipped()).isTrue();
        assertThat(report.clipped()).isFalse();
        assertThat(report.clippedCount()).isZero();
        assertThat(report.coefficient()).isEqualTo(1.0);
        assertThat(report.nonFiniteCount()).isEqualTo(3);
        assertThat(report.hasNonFinite()).isTrue();
        assertThat(report.firstNonFiniteTensor()).isEqualTo("b");
        assertThat(report.firstNonFiniteIndex()).isEqualTo(5);
        assertThat(report.normBefore()).isNaN();
        assertThat(report.largest().get(0).name()).as("a NaN norm ranks first").isEqualTo("b");
        assertThat(report.toString()).contains("SKIPPED", "'b'");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void zeroReplacesOnlyNonFiniteEntriesThenClips(Clipper clipper) {
        float[][] g = gradients();
        ClipReport report = clipper.withNonFinitePolicy(NonFinitePolicy.ZERO).clip(set(g));
        // the expected result: the same clipper on a copy whose non-finite entries were set to 0 by hand
        float[][] manual = gradients();
        manual[1][5] = 0f;
        manual[1][9] = 0f;
        manual[2][0] = 0f;
        ClipReport expected = clipper.clip(set(manual));
        ClipperPropertiesTest.assertBitwiseEqual(g, manual, "ZERO then clip");
        assertThat(report.skipped()).isFalse();
        assertThat(report.nonFiniteCount()).isEqualTo(3);
        assertThat(report.firstNonFiniteTensor()).isEqualTo("b");
        assertThat(report.firstNonFiniteIndex()).isEqualTo(5);
        assertThat(report.normBefore()).isEqualTo(expected.normBefore());
        assertThat(report.clippedCount()).isEqualTo(expected.clippedCount());
        assertThat(report.tensorNorms()).containsExactly(expected.tensorNorms());
    }

    @Test
    void zeroWithAHighThresholdLeavesFiniteEntriesBitForBit() {
        float[][] g = gradients();
        float[][] before = ClipperPropertiesTest.deepCopy(g);
        ClipReport report = Clippers.globalNorm(1e6).withNonFinitePolicy(NonFinitePolicy.ZERO).clip(set(g));
        assertThat(report.clipped()).isFalse();
        for (int t = 0; t < g.length; t++) {
            for (int i = 0; i < g[t].length; i++) {
                if (Float.isFinite(before[t][i])) {
                    assertThat(Float.floatToRawIntBits(g[t][i])).isEqualTo(Float.floatToRawIntBits(before[t][i]));
                } else {
                    assertThat(Float.floatToRawIntBits(g[t][i])).isZero();
                }
            }
        }
    }

    @Test
    void propagateOfAnInfiniteNormZeroesFiniteEntriesAndTurnsInfinitiesIntoNaN() {
        // PyTorch clip_grad_norm_ with error_if_nonfinite=False: coef = c/(inf + 1e-6) = 0
        for (Clipper clipper : List.of(Clippers.globalNorm(1.0),
                Clippers.globalNorm(1.0).withEpsilon(NormClipper.PYTORCH_EPSILON))) {
            float[][] g = {{1f, -2f, 3e38f}, {Float.POSITIVE_INFINITY, 0.5f, Float.NEGATIVE_INFINITY}};
            ClipReport report = clipper.withNonFinitePolicy(NonFinitePolicy.PROPAGATE).clip(GradientSet.of(g));
            assertThat(g[0]).containsExactly(0f, -0f, 0f);
            assertThat(g[1][0]).isNaN();
            assertThat(g[1][1]).isZero();
            assertThat(g[1][2]).isNaN();
            assertThat(report.normBefore()).isEqualTo(Double.POSITIVE_INFINITY);
            assertThat(report.coefficient()).isZero();
            assertThat(report.nonFiniteCount()).isEqualTo(2);
            assertThat(report.firstNonFiniteTensor()).isEqualTo("grads[1]");
            assertThat(report.firstNonFiniteIndex()).isZero();
            assertThat(report.skipped()).isFalse();
        }
    }

    @Test
    void propagateOfANaNNormMakesEverythingNaN() {
        float[][] g = {{1f, -2f}, {Float.POSITIVE_INFINITY, Float.NaN, 4f}};
        ClipReport report = Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.PROPAGATE)
                .clip(GradientSet.of(g));
        for (float[] t : g) {
            for (float x : t) {
                assertThat(x).isNaN();
            }
        }
        assertThat(report.normBefore()).isNaN();
        assertThat(report.coefficient()).isNaN();
        assertThat(report.nonFiniteCount()).isEqualTo(2);
        assertThat(report.firstNonFiniteIndex()).isZero();
    }

    @Test
    void reportListsTheLargestTensorsInOrder() {
        GradientSet.Builder b = GradientSet.builder();
        double[] norms = {3, 0, 10, 7, 1, 7.5, 2, 9};
        for (int t = 0; t < norms.length; t++) {
            b.add("t" + t, new float[] {(float) norms[t]}, 1);
        }
        ClipReport report = Clippers.globalNorm(1e9).clip(b.build());
        assertThat(report.largest()).hasSize(AbstractClipper.DEFAULT_TOP_K);
        assertThat(report.largest()).extracting(TensorNorm::name).containsExactly("t2", "t7", "t5", "t3", "t0");
        assertThat(report.largest()).extracting(TensorNorm::index).containsExactly(2, 7, 5, 3, 0);
        assertThat(report.largest()).extracting(TensorNorm::norm).containsExactly(10.0, 9.0, 7.5, 7.0, 3.0);
        assertThat(report.nonFiniteCount()).isZero();
        assertThat(report.firstNonFiniteTensor()).isNull();
        assertThat(report.firstNonFiniteIndex()).isEqualTo(-1);
        assertThat(report.hasNonFinite()).isFalse();
        // fewer tensors than k: all of them
        ClipReport small = Clippers.globalNorm(1).clip(GradientSet.of(new float[] {1f}, new float[] {4f}));
        assertThat(small.largest()).extracting(TensorNorm::name).containsExactly("grads[1]", "grads[0]");
        assertThat(small.largest().get(0).norm()).isEqualTo(4.0);
    }

    @Test
    void clipReportIsImmutable() {
        float[][] g = {{3f, 4f}};
        ClipReport report = Clippers.globalNorm(1).clip(GradientSet.of(g));
        report.tensorNorms()[0] = 99;
        assertThat(report.tensorNorms()).containsExactly(5.0);
        assertThat(report.normBefore()).isEqualTo(5.0);
        assertThat(report.normAfter()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(report.coefficient()).isEqualTo(0.2);
        assertThat(report.threshold()).isEqualTo(1.0);
        assertThat(report.method()).isEqualTo("global-norm");
    }
    /**
     * Tensors long enough for the SIMD kernels' blocks, a non-finite element late in each of two, so
     * a one-pass value clip has already written the blocks before it when it meets one.
     */
    static float[][] longGradients() {
        java.util.Random r = new java.util.Random(5);
        float[][] g = {new float[3000], new float[5000], new float[2048]};
        for (float[] t : g) {
            for (int i = 0; i < t.length; i++) {
                t[i] = r.nextFloat() * 2 - 1;
            }
        }
        g[1][4001] = Float.NaN;
        g[1][4500] = Float.NEGATIVE_INFINITY;
        g[2][2047] = Float.POSITIVE_INFINITY;
        return g;
    }

    @Test
    void valueClipLeavesLongGradientsUntouchedUnderThrowAndSkip() {
        float[][] g = longGradients();
        float[][] before = ClipperPropertiesTest.deepCopy(g);
        assertThatThrownBy(() -> Clippers.value(0.5).clip(GradientSet.of(g)))
                .isInstanceOfSatisfying(NonFiniteGradientException.class, e -> {
                    assertThat(e.tensorName()).isEqualTo("grads[1]");
                    assertThat(e.elementIndex()).isEqualTo(4001);
                    assertThat(e.nonFiniteCount()).isEqualTo(3);
                });
        ClipperPropertiesTest.assertBitwiseEqual(g, before, "after THROW");
        ClipReport skipped = Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.SKIP).clip(GradientSet.of(g));
        ClipperPropertiesTest.assertBitwiseEqual(g, before, "after SKIP");
        assertThat(skipped.skipped()).isTrue();
        assertThat(skipped.nonFiniteCount()).isEqualTo(3);
    }

    @Test
    void valueClipInOnePassUnderZeroEqualsZeroingByHandThenClipping() {
        float[][] g = longGradients();
        ClipReport report = Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.ZERO).clip(GradientSet.of(g));
        float[][] manual = longGradients();
        manual[1][4001] = 0f;
        manual[1][4500] = 0f;
        manual[2][2047] = 0f;
        ClipReport expected = Clippers.value(0.5).clip(GradientSet.of(manual));
        ClipperPropertiesTest.assertBitwiseEqual(g, manual, "ZERO in one pass");
        assertThat(report.nonFiniteCount()).isEqualTo(3);
        assertThat(report.firstNonFiniteTensor()).isEqualTo("grads[1]");
        assertThat(report.firstNonFiniteIndex()).isEqualTo(4001);
        assertThat(report.clippedCount()).isEqualTo(expected.clippedCount()).isPositive();
        assertThat(report.normBefore()).isCloseTo(expected.normBefore(), org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertThat(report.normAfter()).isCloseTo(expected.normAfter(), org.assertj.core.data.Percentage.withPercentage(1e-4));
        for (int t = 0; t < g.length; t++) {
            assertThat(report.tensorNorms()[t]).isCloseTo(expected.tensorNorms()[t],
                    org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
    }

    @Test
    void valueClipInOnePassUnderPropagateKeepsNaNAndClampsInfinities() {
        float[][] g = longGradients();
        float[][] original = longGradients();
        ClipReport report = Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.PROPAGATE).clip(GradientSet.of(g));
        long outside = 0;
        for (int t = 0; t < g.length; t++) {
            for (int i = 0; i < g[t].length; i++) {
                float x = original[t][i];
                float expected = Float.isNaN(x) ? x : Math.min(Math.max(x, -0.5f), 0.5f);
                assertThat(Float.floatToRawIntBits(g[t][i])).as("tensor %d element %d", t, i)
                        .isEqualTo(Float.floatToRawIntBits(expected));
                outside += x > 0.5f || x < -0.5f ? 1 : 0;
            }
        }
        assertThat(g[1][4500]).isEqualTo(-0.5f);
        assertThat(g[2][2047]).isEqualTo(0.5f);
        assertThat(report.clippedCount()).isEqualTo(outside);
        assertThat(report.nonFiniteCount()).isEqualTo(3);
        assertThat(report.firstNonFiniteTensor()).isEqualTo("grads[1]");
        assertThat(report.firstNonFiniteIndex()).isEqualTo(4001);
        assertThat(report.tensorNorms()[0]).isFinite();
        assertThat(report.tensorNorms()[1]).isNaN();
        assertThat(report.tensorNorms()[2]).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(report.normBefore()).isNaN();
    }
}
