package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Norm accuracy through the public API against exact BigDecimal references: L2 within 1e-6
 * relative (the SIMD kernels square in float blocks, the scalar ones in double) for arrays up to
 * and beyond 64K elements with a wide dynamic range; no overflow for the largest floats; p = ∞
 * exact; empty tensors have norm 0.
 */
@Tag("kernels")
class NormAccuracyTest {

    static final double L2_REL = 1e-6;

    static float[] wideRange(Random r, int n, double decades) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * Math.pow(10, decades * (r.nextDouble() - 0.5)));
        }
        return a;
    }

    @Test
    void l2NormIsWithinOneMillionthOfTheExactNorm() {
        Random r = new Random(42);
        int[] sizes = {1, 100, 4097, 65536 + 333, 140_000};
        double[] decades = {0, 12, 60};
        for (int n : sizes) {
            for (double d : decades) {
                float[] a = wideRange(r, n, d);
                double exact = Exact.l2(a);
                double got = GradClip.globalNorm(new float[][] {a}, 2.0);
                double err = Exact.relativeError(got, exact);
                assertThat(err).as("n=%d decades=%s", n, d).isLessThanOrEqualTo(L2_REL);
                // split into many tensors, the norms combine exactly the same way
                float[][] parts = split(a, 37);
                assertThat(Exact.relativeError(GradClip.globalNorm(parts, 2.0), exact)).isLessThanOrEqualTo(L2_REL);
            }
        }
    }

    @Test
    void l2NormOfEqualValuesIsExactWhereTheFloatSumWouldStall() {
        // a float accumulator stops growing at 2^24; 2^17 ones have norm exactly 2^8.5
        float[] ones = new float[1 << 17];
        java.util.Arrays.fill(ones, 1f);
        assertThat(Exact.relativeError(GradClip.globalNorm(new float[][] {ones}, 2.0), Math.sqrt(1 << 17)))
                .isLessThanOrEqualTo(1e-9);
        float[] many = new float[1 << 17];
        java.util.Arrays.fill(many, 4096f); // squares sum to 2^41, far above float's 2^24 integer range
        assertThat(GradClip.globalNorm(new float[][] {many}, 2.0)).isCloseTo(4096 * Math.sqrt(1 << 17),
                org.assertj.core.data.Percentage.withPercentage(1e-7));
    }

    @Test
    void hugeValuesHaveAFiniteCorrectNorm() {
        for (int n : new int[] {1, 17, 1000, 70_000}) {
            float[] a = new float[n];
            java.util.Arrays.fill(a, 3e38f);
            double expected = 3e38f * Math.sqrt(n);
            double got = GradClip.globalNorm(new float[][] {a}, 2.0);
            assertThat(got).as("n=%d", n).isFinite();
            assertThat(Exact.relativeError(got, Exact.l2(a))).isLessThanOrEqualTo(1e-12);
            assertThat(got).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(1e-10));
            for (double p : new double[] {1, 3, 7.5, Double.POSITIVE_INFINITY}) {
                assertThat(GradClip.globalNorm(new float[][] {a, a}, p)).as("n=%d p=%s", n, p).isFinite();
            }
            float[][] g = {a.clone()};
            assertThat(GradClip.clipByGlobalNorm(g, 1.0)).isFinite();
            assertThat(Exact.l2(g[0])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void pNormsMatchExactReferences() {
        Random r = new Random(7);
        for (int n : new int[] {3, 1000, 20_000}) {
            float[] a = wideRange(r, n, 12);
            float[] b = wideRange(r, n / 3 + 1, 4);
            assertThat(Exact.relativeError(GradClip.globalNorm(new float[][] {a, b}, 1.0),
                    Exact.sumOfAbs(a, 0, n).add(Exact.sumOfAbs(b, 0, b.length)))).isLessThanOrEqualTo(2e-6);
            assertThat(Exact.relativeError(GradClip.globalNorm(new float[][] {a, b}, 3.0), Exact.pNorm(3, a, b)))
                    .isLessThanOrEqualTo(1e-12);
            assertThat(Exact.relativeError(GradClip.globalNorm(new float[][] {a, b}, 4.0), Exact.pNorm(4, a, b)))
                    .isLessThanOrEqualTo(1e-12);
        }
    }

    @Test
    void infinityNormIsExact() {
        Random r = new Random(3);
        for (int n : new int[] {1, 15, 16, 17, 1025, 65_537}) {
            float[] a = wideRange(r, n, 40);
            float max = 0;
            for (float x : a) {
                max = Math.max(max, Math.abs(x));
            }
            assertThat(GradClip.globalNorm(new float[][] {a, new float[0]}, Double.POSITIVE_INFINITY))
                    .isEqualTo((double) max);
            assertThat(GradClip.globalNorm(split(a, 5), Double.POSITIVE_INFINITY)).isEqualTo((double) max);
        }
        float[] subnormal = {-Float.MIN_VALUE, 0f, Float.MIN_VALUE * 3};
        assertThat(GradClip.globalNorm(new float[][] {subnormal}, Double.POSITIVE_INFINITY))
                .isEqualTo(Float.MIN_VALUE * 3.0);
    }

    @Test
    void emptyTensorsHaveNormZero() {
        for (double p : new double[] {1, 2, 3, 2.5, Double.POSITIVE_INFINITY}) {
            assertThat(GradClip.globalNorm(new float[0][], p)).isZero();
            assertThat(GradClip.globalNorm(new float[][] {new float[0], new float[0]}, p)).isZero();
            assertThat(GradClip.globalNorm(new float[][] {new float[5]}, p)).isZero();
            float[][] g = {new float[0], {3f, 4f}};
            assertThat(GradClip.globalNorm(g, p)).isPositive();
        }
        float[][] empty = {new float[0]};
        assertThat(GradClip.clipByGlobalNorm(empty, 1.0)).isZero();
        assertThat(GradClip.clipByNorm(empty, 1.0)).containsExactly(0.0);
        assertThat(GradClip.clipByValue(empty, 1.0)).isZero();
        ClipReport report = Clippers.globalNorm(1.0).clip(GradientSet.builder()
                .add("empty", new float[0], 0, 3).add("scalar", new float[] {2f}).build());
        assertThat(report.tensorNorms()).containsExactly(0.0, 2.0);
        assertThat(report.normBefore()).isEqualTo(2.0);
    }

    @Test
    void tinyValuesKeepTheirNorm() {
        float[] a = new float[10_000];
        java.util.Arrays.fill(a, 1e-25f);
        double got = GradClip.globalNorm(new float[][] {a}, 2.0);
        assertThat(Exact.relativeError(got, new BigDecimal(Exact.l2(a)))).isLessThanOrEqualTo(1e-12);
        float[] sub = new float[5000];
        java.util.Arrays.fill(sub, Float.MIN_VALUE);
        assertThat(GradClip.globalNorm(new float[][] {sub}, 2.0)).isCloseTo(Float.MIN_VALUE * Math.sqrt(5000),
                org.assertj.core.data.Percentage.withPercentage(1e-9));
    }

    @Test
    void renormalizingATinyGradientGivesAUnitVectorNotInfinities() {
        // the audit's case: norm 1.4e-45, coefficient 1/1.4e-45 = 2^149 = 7.1e44, above the largest float
        double coefficient = 0x1p149;
        for (NormScope scope : NormScope.values()) {
            float[] g = {Float.MIN_VALUE, 0f, 0f};
            ClipReport r = Clippers.renormalize(scope).clip(GradientSet.of(g));
            assertThat(g).as("%s", scope).containsExactly(1f, 0f, 0f);
            assertThat(r.coefficient()).as("%s coefficient", scope).isEqualTo(coefficient);
            assertThat(r.normAfter()).as("%s norm after", scope).isEqualTo(1.0);
            assertThat(r.clipped()).isTrue();
        }
        // two tensors: per tensor each becomes a unit vector; globally the whole does
        float[] a = {Float.MIN_VALUE, 0f, 0f};
        float[] b = {0f, -Float.MIN_VALUE * 3};
        ClipReport perTensor = Clippers.renormalize(NormScope.TENSOR).clip(GradientSet.of(a, b));
        assertThat(a).containsExactly(1f, 0f, 0f);
        assertThat(b).containsExactly(0f, -1f);
        assertThat(perTensor.coefficient()).as("the smallest applied").isEqualTo(0x1p149 / 3);
        assertThat(perTensor.normAfter()).isCloseTo(Math.sqrt(2), org.assertj.core.data.Offset.offset(1e-15));
        a = new float[] {Float.MIN_VALUE, 0f, 0f};
        b = new float[] {0f, -Float.MIN_VALUE * 3};
        ClipReport global = Clippers.renormalize(NormScope.GLOBAL).clip(GradientSet.of(a, b));
        double n = Math.sqrt(10) * Float.MIN_VALUE;
        assertThat(global.coefficient()).isEqualTo(1 / n);
        // the coefficient is rounded to 24 significant bits, as any float coefficient is: within 1 ulp
        assertThat(a[0]).isCloseTo((float) (1 / Math.sqrt(10)), org.assertj.core.data.Offset.offset(Math.ulp(0.32f)));
        assertThat(a[1]).isZero();
        assertThat(b[0]).isZero();
        assertThat(b[1]).isCloseTo((float) (-3 / Math.sqrt(10)), org.assertj.core.data.Offset.offset(Math.ulp(0.95f)));
        // every norm below 2.9e-39 (where 1/n leaves the float range) renormalizes to a finite unit vector
        Random r = new Random(17);
        for (int k = 0; k < 200; k++) {
            float[] t = new float[1 + r.nextInt(40)];
            for (int i = 0; i < t.length; i++) {
                t[i] = r.nextInt(3) == 0 ? 0f : (float) (r.nextGaussian() * Math.pow(10, -39 - 6 * r.nextDouble()));
            }
            Clippers.renormalize(NormScope.TENSOR).clip(GradientSet.of(t));
            double norm = Exact.l2(t);
            if (norm > 0) {
                assertThat(norm).as("case %d", k).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
            }
            for (float x : t) {
                assertThat(x).as("case %d", k).isBetween(-1f, 1f);
            }
        }
    }

    static float[][] split(float[] a, int parts) {
        float[][] out = new float[parts][];
        int from = 0;
        for (int p = 0; p < parts; p++) {
            int to = (int) ((long) a.length * (p + 1) / parts);
            out[p] = java.util.Arrays.copyOfRange(a, from, to);
            from = to;
        }
        return out;
    }
}
