package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The plain-array facade: its fixed signatures, results, argument checks and non-finite errors. */
@Tag("kernels")
class GradClipTest {

    static final double[] BAD_THRESHOLDS = {0.0, -0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY};

    @Test
    void signaturesAreExactlyTheDocumentedOnes() throws NoSuchMethodException {
        assertSignature("clipByGlobalNorm", double.class, float[][].class, double.class);
        assertSignature("clipByGlobalNorm", double.class, float[][].class, double.class, double.class);
        assertSignature("clipByNorm", double[].class, float[][].class, double.class);
        assertSignature("clipByValue", long.class, float[][].class, double.class);
        assertSignature("globalNorm", double.class, float[][].class, double.class);
    }

    private static void assertSignature(String name, Class<?> returns, Class<?>... params)
            throws NoSuchMethodException {
        Method m = GradClip.class.getMethod(name, params);
        assertThat(m.getReturnType()).isEqualTo(returns);
        assertThat(Modifier.isStatic(m.getModifiers())).isTrue();
    }

    @Test
    void clipByGlobalNormReturnsThePreClipNormAndClipsInPlace() {
        float[][] g = {{3f, 0f}, {0f, 4f, 0f}};
        assertThat(GradClip.clipByGlobalNorm(g, 1.0)).isEqualTo(5.0);
        assertThat(g[0]).containsExactly(0.6f, 0f);
        assertThat(g[1]).containsExactly(0f, 0.8f, 0f);
        float[][] below = {{3f}, {4f}};
        assertThat(GradClip.clipByGlobalNorm(below, 5.0)).isEqualTo(5.0);
        assertThat(below[0]).containsExactly(3f);
        assertThat(below[1]).containsExactly(4f);
    }

    @Test
    void clipByGlobalNormWithNormType() {
        float[][] g = {{3f, -1f}, {-4f}};
        assertThat(GradClip.clipByGlobalNorm(g, 2.0, 1.0)).isEqualTo(8.0);
        assertThat(g[0]).containsExactly(0.75f, -0.25f);
        assertThat(g[1]).containsExactly(-1f);
        float[][] h = {{3f, -1f}, {-4f}};
        assertThat(GradClip.clipByGlobalNorm(h, 2.0, Double.POSITIVE_INFINITY)).isEqualTo(4.0);
        assertThat(h[0]).containsExactly(1.5f, -0.5f);
        assertThat(h[1]).containsExactly(-2f);
        float[][] k = {{3f, -1f}, {-4f}};
        assertThat(GradClip.clipByGlobalNorm(k, 100.0, 3.0)).isCloseTo(Math.cbrt(27 + 1 + 64),
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(k[0]).containsExactly(3f, -1f);
    }

    @Test
    void clipByNormReturnsEachPreClipNorm() {
        float[][] g = {{3f, 4f}, {0.3f, 0.4f}, {}};
        double[] norms = GradClip.clipByNorm(g, 1.0);
        assertThat(norms).hasSize(3);
        assertThat(norms[0]).isEqualTo(5.0);
        assertThat(norms[1]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-7));
        assertThat(norms[2]).isZero();
        assertThat(g[0]).containsExactly(0.6f, 0.8f);
        assertThat(g[1]).containsExactly(0.3f, 0.4f);
    }

    @Test
    void clipByValueReturnsTheNumberClamped() {
        float[][] g = {{-3f, 0.5f, 2f}, {1f, -1f, Float.MAX_VALUE, -0.99f}};
        assertThat(GradClip.clipByValue(g, 1.0)).isEqualTo(3);
        assertThat(g[0]).containsExactly(-1f, 0.5f, 1f);
        assertThat(g[1]).containsExactly(1f, -1f, 1f, -0.99f);
        assertThat(GradClip.clipByValue(g, 1.0)).isZero();
    }

    @Test
    void globalNormChangesNothing() {
        float[][] g = {{3f, 0f}, {0f, 4f}};
        assertThat(GradClip.globalNorm(g, 2.0)).isEqualTo(5.0);
        assertThat(GradClip.globalNorm(g, 1.0)).isEqualTo(7.0);
        assertThat(GradClip.globalNorm(g, Double.POSITIVE_INFINITY)).isEqualTo(4.0);
        assertThat(g[0]).containsExactly(3f, 0f);
        assertThat(g[1]).containsExactly(0f, 4f);
    }

    @Test
    void badThresholdsNameTheArgumentAndValue() {
        for (double bad : BAD_THRESHOLDS) {
            float[][] g = {{1f, 2f}};
            String value = String.valueOf(bad);
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("maxNorm", value);
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, bad, 2.0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("maxNorm", value);
            assertThatThrownBy(() -> GradClip.clipByNorm(g, bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("maxNorm", value);
            assertThatThrownBy(() -> GradClip.clipByValue(g, bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("clipValue", value);
            assertThat(g[0]).containsExactly(1f, 2f);
        }
    }

    @Test
    void badNormTypesNameTheArgumentAndValue() {
        for (double bad : new double[] {0.5, 0.0, -1.0, Double.NaN, Double.NEGATIVE_INFINITY}) {
            float[][] g = {{1f, 2f}};
            String value = String.valueOf(bad);
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, 1.0, bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("normType", value);
            assertThatThrownBy(() -> GradClip.globalNorm(g, bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("normType", value);
            assertThat(g[0]).containsExactly(1f, 2f);
        }
    }

    @Test
    void nonFiniteGradientsThrowAnArithmeticExceptionNamingTensorAndElement() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[][] g = {{1f, 2f, 3f}, {4f, 5f, 6f, bad, 7f}};
            float[][] before = ClipperPropertiesTest.deepCopy(g);
            String[] expected = {"grads[1]", "element 3", String.valueOf(bad)};
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, 1.0))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, 1.0, Double.POSITIVE_INFINITY))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            assertThatThrownBy(() -> GradClip.clipByGlobalNorm(g, 1.0, 3.0))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            assertThatThrownBy(() -> GradClip.clipByNorm(g, 1.0))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            assertThatThrownBy(() -> GradClip.clipByValue(g, 1.0))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            assertThatThrownBy(() -> GradClip.globalNorm(g, 2.0))
                    .isInstanceOf(ArithmeticException.class).hasMessageContainingAll(expected);
            ClipperPropertiesTest.assertBitwiseEqual(g, before, "after " + bad);
        }
    }

    @Test
    void nullArraysAreRejectedClearly() {
        assertThatThrownBy(() -> GradClip.clipByGlobalNorm(null, 1.0)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("grads");
        assertThatThrownBy(() -> GradClip.clipByValue(new float[][] {{1f}, null}, 1.0))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("grads[1]");
    }

    @Test
    void underThresholdClipMakesNoWritePass() {
        float[][] g = {{3f, 4f}, {1e-3f}};
        CountingGradients counting = new CountingGradients(GradientSet.of(g));
        ClipReport report = Clippers.globalNorm(10).clip(counting);
        assertThat(report.clipped()).isFalse();
        assertThat(counting.writes).isZero();
        Clippers.norm(10).clip(counting);
        Clippers.groupNorm(10).clip(counting);
        Clippers.value(10).clip(counting);
        assertThat(counting.writes).isZero();
        Clippers.globalNorm(1).clip(counting);
        assertThat(counting.writes).isEqualTo(2);
    }

    /** Counts the calls that write to the gradients. */
    static final class CountingGradients implements Gradients {
        final GradientSet inner;
        int writes;

        CountingGradients(GradientSet inner) {
            this.inner = inner;
        }

        @Override
        public int tensorCount() {
            return inner.tensorCount();
        }

        @Override
        public String name(int tensor) {
            return inner.name(tensor);
        }

        @Override
        public String group(int tensor) {
            return inner.group(tensor);
        }

        @Override
        public long[] shape(int tensor) {
            return inner.shape(tensor);
        }

        @Override
        public long size(int tensor) {
            return inner.size(tensor);
        }

        @Override
        public boolean hasParameter(int tensor) {
            return inner.hasParameter(tensor);
        }

        @Override
        public void norms(double p, double[] out) {
            inner.norms(p, out);
        }

        @Override
        public long nonFiniteCount(int tensor) {
            return inner.nonFiniteCount(tensor);
        }

        @Override
        public long firstNonFinite(int tensor) {
            return inner.firstNonFinite(tensor);
        }

        @Override
        public float get(int tensor, long index) {
            return inner.get(tensor, index);
        }

        @Override
        public void set(int tensor, long index, float value) {
            inner.set(tensor, index, value);
        }

        @Override
        public long zeroNonFinite(int tensor) {
            writes++;
            return inner.zeroNonFinite(tensor);
        }

        @Override
        public void scale(int tensor, double factor) {
            writes++;
            inner.scale(tensor, factor);
        }

        @Override
        public long clamp(int tensor, double limit) {
            // value clipping must scan; a clamp that changes nothing writes nothing
            long changed = inner.clamp(tensor, limit);
            writes += changed > 0 ? 1 : 0;
            return changed;
        }

        @Override
        public int unitCount(int tensor) {
            return inner.unitCount(tensor);
        }

        @Override
        public void unitNorms(int tensor, boolean parameter, double[] out) {
            inner.unitNorms(tensor, parameter, out);
        }

        @Override
        public void scaleUnits(int tensor, double[] factors) {
            writes++;
            inner.scaleUnits(tensor, factors);
        }
    }
}
