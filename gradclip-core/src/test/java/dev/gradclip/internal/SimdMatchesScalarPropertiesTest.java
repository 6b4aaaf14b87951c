package dev.gradclip.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;

/**
 * The SIMD kernels agree with the scalar reference on random arrays: sums within a relative
 * tolerance that grows with the length (float blocks against double accumulation), everything else
 * exactly. Tagged {@code simd}: it runs in the default test run, which adds the vector module (and
 * {@link KernelSelectionTest} checks that it does), not in the {@code scalar-kernels} run.
 */
@Tag("simd")
class SimdMatchesScalarPropertiesTest {

    /** An array with a random range {@code [from, to)} inside it. */
    record Slice(float[] a, int from, int to) {
        @Override
        public String toString() {
            return "Slice[length " + a.length + ", from " + from + ", to " + to + "]";
        }
    }

    @Provide
    Arbitrary<Slice> slices() {
        return Arbitraries.randomValue(r -> {
            int n = r.nextInt(4) == 0 ? r.nextInt(6000) : r.nextInt(80);
            float[] a = new float[n];
            // runs of values at one magnitude, so whole SIMD blocks are tiny, huge, zero or mixed
            int i = 0;
            while (i < n) {
                int run = 1 + r.nextInt(700);
                double exp = switch (r.nextInt(6)) {
                    case 0 -> -44;
                    case 1 -> -25;
                    case 2 -> 38;
                    case 3 -> Double.NaN; // zeros
                    default -> -10 + 20 * r.nextDouble();
                };
                for (int j = i; j < Math.min(n, i + run); j++) {
                    a[j] = Double.isNaN(exp) ? 0f
                            : (float) (r.nextGaussian() * Math.pow(10, exp + r.nextDouble() - 0.5));
                    if (Float.isInfinite(a[j])) {
                        a[j] = Math.copySign(Float.MAX_VALUE, a[j]);
                    }
                }
                i += run;
            }
            int from = n == 0 ? 0 : r.nextInt(Math.min(n, 40) + 1);
            int to = from + (n - from == 0 ? 0 : r.nextInt(n - from + 1));
            return new Slice(a, from, to);
        });
    }

    static double tolerance(int n) {
        return FloatKernelsContractTest.sumTolerance(n);
    }

    static double relativeDifference(double x, double reference) {
        return reference == 0 ? Math.abs(x) : Math.abs(x - reference) / Math.abs(reference);
    }

    @Property(tries = 200)
    void sumsAgreeWithinALengthDependentTolerance(@ForAll("slices") Slice s) {
        if (!Kernels.vectorModuleAvailable()) {
            return; // only the default run, with the module, can load the SIMD kernels
        }
        FloatKernels simd = KernelsUnderTest.simd();
        FloatKernels scalar = KernelsUnderTest.scalar();
        int n = s.to - s.from;
        assertThat(relativeDifference(simd.sumOfSquares(s.a, s.from, s.to), scalar.sumOfSquares(s.a, s.from, s.to)))
                .isLessThanOrEqualTo(tolerance(n));
        assertThat(relativeDifference(simd.sumOfAbs(s.a, s.from, s.to), scalar.sumOfAbs(s.a, s.from, s.to)))
                .isLessThanOrEqualTo(2 * tolerance(n));
        double max = scalar.maxAbs(s.a, s.from, s.to);
        assertThat(simd.maxAbs(s.a, s.from, s.to)).isEqualTo(max);
        if (max > 0) {
            assertThat(relativeDifference(simd.sumOfScaledPowers(s.a, s.from, s.to, 2.5, max),
                    scalar.sumOfScaledPowers(s.a, s.from, s.to, 2.5, max))).isLessThanOrEqualTo(1e-12);
        }
    }

    @Property(tries = 200)
    void writesAgreeExactly(@ForAll("slices") Slice s, @ForAll("seeds") long seed) {
        if (!Kernels.vectorModuleAvailable()) {
            return; // only the default run, with the module, can load the SIMD kernels
        }
        FloatKernels simd = KernelsUnderTest.simd();
        FloatKernels scalar = KernelsUnderTest.scalar();
        Random r = new Random(seed);
        float[] a = s.a.clone();
        for (int k = 0; k < a.length / 100; k++) {
            a[r.nextInt(a.length)] = r.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY;
        }
        float factor = (float) Math.pow(10, -20 + 40 * r.nextDouble());
        float[] x = a.clone();
        float[] y = a.clone();
        simd.scale(x, s.from, s.to, factor);
        scalar.scale(y, s.from, s.to, factor);
        assertSameBits(x, y);
        float limit = (float) Math.pow(10, -30 + 60 * r.nextDouble());
        x = a.clone();
        y = a.clone();
        assertThat(simd.clamp(x, s.from, s.to, limit)).isEqualTo(scalar.clamp(y, s.from, s.to, limit));
        assertSameBits(x, y);
        x = a.clone();
        y = a.clone();
        long[] simdChanged = new long[1];
        long[] scalarChanged = new long[1];
        double simdSum = simd.clampSumOfSquares(x, s.from, s.to, limit, simdChanged);
        double scalarSum = scalar.clampSumOfSquares(y, s.from, s.to, limit, scalarChanged);
        assertThat(simdChanged[0]).isEqualTo(scalarChanged[0]);
        assertSameBits(x, y);
        if (Double.isNaN(scalarSum)) {
            assertThat(simdSum).isNaN();
        } else {
            assertThat(relativeDifference(simdSum, scalarSum)).isLessThanOrEqualTo(tolerance(s.to - s.from));
        }
        assertThat(simd.firstNonFinite(a, s.from, s.to)).isEqualTo(scalar.firstNonFinite(a, s.from, s.to));
        assertThat(simd.countNonFinite(a, s.from, s.to)).isEqualTo(scalar.countNonFinite(a, s.from, s.to));
        x = a.clone();
        y = a.clone();
        assertThat(simd.zeroNonFinite(x, s.from, s.to)).isEqualTo(scalar.zeroNonFinite(y, s.from, s.to));
        assertSameBits(x, y);
    }

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    private static void assertSameBits(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            if (Float.floatToIntBits(x[i]) != Float.floatToIntBits(y[i])) {
                throw new AssertionError("element " + i + ": simd " + x[i] + ", scalar " + y[i]);
            }
        }
    }
}
