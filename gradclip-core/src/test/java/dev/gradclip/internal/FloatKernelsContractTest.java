package dev.gradclip.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gradclip.ClampResult;
import dev.gradclip.Exact;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one contract every {@link FloatKernels} implementation passes, run against the scalar
 * reference and (when {@code jdk.incubator.vector} is readable) the SIMD kernels in the same JVM, as
 * Lucene tests its vectorization providers. Lengths straddle every vector width and the SIMD block
 * size; ranges start at an offset and are surrounded by NaN so a kernel that reads or writes outside
 * {@code [from, to)} fails. Data include subnormals, tiny values whose float squares underflow,
 * huge values whose float squares overflow and blocks of zeros, the cases where the SIMD sum of
 * squares must fall back to its exact path.
 *
 * <p>Not tagged {@code kernels}: it names both implementations itself, so the default run covers
 * both and the {@code scalar-kernels} run (which cannot load the SIMD class) would only repeat it.
 */
class FloatKernelsContractTest {

    static final int[] LENGTHS = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 511, 512,
        513, 1023, 1024, 1025, 4097};
    static final int[] OFFSETS = {0, 5};
    /** Elements after the range, filled with NaN: never read, never written. */
    static final int PAD = 3;

    enum Kind {
        NORMAL, WIDE, TINY, SUBNORMAL, HUGE, ZERO_BLOCKS, MIXED_BLOCKS, INTEGERS,
        /** Equal values: float rounding errors all lean one way, the worst case for block sums. */
        CONSTANT
    }

    /** Both kernels when the vector module is readable (the default test run), else the scalar one. */
    static Stream<Named<FloatKernels>> kernels() {
        List<FloatKernels> list = new ArrayList<>();
        list.add(ScalarKernels.INSTANCE);
        if (Kernels.vectorModuleAvailable()) {
            list.add(KernelsUnderTest.simd());
        }
        return list.stream().map(k -> Named.of(k.name(), k));
    }

    /** A test array: {@code a[from, to)} holds data, the rest NaN. */
    record Case(float[] a, int from, int to, Kind kind) {
        @Override
        public String toString() {
            return kind + " length " + (to - from) + " from " + from;
        }
    }

    static List<Case> cases(long seed) {
        Random r = new Random(seed);
        List<Case> out = new ArrayList<>();
        for (int n : LENGTHS) {
            for (int off : OFFSETS) {
                for (Kind kind : Kind.values()) {
                    float[] a = new float[off + n + PAD];
                    Arrays.fill(a, Float.NaN);
                    fill(kind, a, off, off + n, r);
                    out.add(new Case(a, off, off + n, kind));
                }
            }
        }
        return out;
    }

    static void fill(Kind kind, float[] a, int from, int to, Random r) {
        for (int i = from; i < to; i++) {
            float sign = r.nextBoolean() ? 1f : -1f;
            a[i] = switch (kind) {
                case NORMAL -> (float) r.nextGaussian();
                case WIDE -> sign * (float) Math.pow(10, -30 + 60 * r.nextDouble());
                case TINY -> sign * 1e-25f * (1 + r.nextFloat());
                case SUBNORMAL -> sign * Float.MIN_VALUE * (1 + r.nextInt(1 << 20));
                case HUGE -> sign * 3e38f * (0.5f + r.nextFloat() / 2);
                case ZERO_BLOCKS -> ((i - from) / 300) % 2 == 0 ? 0f
                        : r.nextInt(50) == 0 ? sign * 1e-25f : 0f;
                case MIXED_BLOCKS -> switch (((i - from) / 512) % 4) {
                    case 0 -> sign * 1e-25f * (1 + r.nextFloat());
                    case 1 -> 0f;
                    case 2 -> sign * 3e38f * r.nextFloat();
                    default -> (float) r.nextGaussian() * 1e-3f;
                };
                case INTEGERS -> r.nextInt(7) - 3;
                case CONSTANT -> (i - from) % 16 == 0 ? 4.0332537f : 1.0083134f;
            };
        }
    }

    /**
     * Relative tolerance of the sums: the SIMD kernels add squares in float within blocks (about 12
     * roundings per term, each at most 2^-24 relative, all terms positive); double accumulation adds
     * a rounding per term at 2^-53. Grows with the length, bounded by the block scheme.
     */
    static double sumTolerance(int n) {
        return 1e-15 * n + (n >= 16 ? 1.2e-6 : 1e-15);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void sumOfSquaresMatchesExactReference(FloatKernels k) {
        for (Case c : cases(1)) {
            double got = k.sumOfSquares(c.a, c.from, c.to);
            BigDecimal exact = Exact.sumOfSquares(c.a, c.from, c.to);
            assertThat(got).as("%s: %s is finite", k.name(), c).isFinite();
            assertThat(Exact.relativeError(got, exact)).as("%s: %s relative error", k.name(), c)
                    .isLessThanOrEqualTo(sumTolerance(c.to - c.from));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void sumOfSquaresOfTinyAndHugeBlocksIsAccurate(FloatKernels k) {
        // Every square underflows in float: a float sum would be 0.
        float[] tiny = new float[4096];
        Arrays.fill(tiny, 1e-25f);
        assertThat(Exact.relativeError(k.sumOfSquares(tiny, 0, tiny.length), Exact.sumOfSquares(tiny, 0, 4096)))
                .isLessThan(1e-12);
        // Every square overflows in float: a float sum would be infinite.
        float[] huge = new float[4096];
        Arrays.fill(huge, 3e38f);
        double s = k.sumOfSquares(huge, 0, huge.length);
        assertThat(s).isFinite();
        assertThat(Exact.relativeError(s, Exact.sumOfSquares(huge, 0, 4096))).isLessThan(1e-12);
        // One huge element per block among small ones.
        float[] spiky = new float[4096];
        Arrays.fill(spiky, 1e-3f);
        for (int i = 100; i < spiky.length; i += 700) {
            spiky[i] = 2e19f;
        }
        assertThat(Exact.relativeError(k.sumOfSquares(spiky, 0, spiky.length),
                Exact.sumOfSquares(spiky, 0, 4096))).isLessThan(1e-12);
        // Subnormal squares are zero in float; here they are all there is.
        float[] sub = new float[2048];
        Arrays.fill(sub, Float.MIN_VALUE * 3);
        assertThat(k.sumOfSquares(sub, 0, sub.length)).isEqualTo(2048 * Math.pow(Float.MIN_VALUE * 3.0, 2),
                org.assertj.core.data.Offset.offset(1e-100));
        assertThat(k.sumOfSquares(sub, 0, sub.length)).isPositive();
        // All zeros and empty ranges.
        assertThat(k.sumOfSquares(new float[3000], 0, 3000)).isZero();
        assertThat(k.sumOfSquares(huge, 7, 7)).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void sumOfAbsMatchesExactReference(FloatKernels k) {
        for (Case c : cases(2)) {
            double got = k.sumOfAbs(c.a, c.from, c.to);
            assertThat(got).as("%s: %s is finite", k.name(), c).isFinite();
            assertThat(Exact.relativeError(got, Exact.sumOfAbs(c.a, c.from, c.to)))
                    .as("%s: %s relative error", k.name(), c)
                    .isLessThanOrEqualTo(2 * sumTolerance(c.to - c.from));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void sumOfScaledPowersMatchesExactReference(FloatKernels k) {
        for (Case c : cases(3)) {
            double max = k.maxAbs(c.a, c.from, c.to);
            if (max == 0) {
                continue;
            }
            double got = k.sumOfScaledPowers(c.a, c.from, c.to, 3.0, max);
            BigDecimal exact = Exact.sumOfPowers(c.a, c.from, c.to, 3)
                    .divide(new BigDecimal(max).pow(3), Exact.MC);
            assertThat(Exact.relativeError(got, exact)).as("%s: %s relative error", k.name(), c)
                    .isLessThanOrEqualTo(1e-13 + 1e-15 * (c.to - c.from));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void sumsPropagateNaNAndInfinity(FloatKernels k) {
        for (int n : LENGTHS) {
            if (n == 0) {
                continue;
            }
            for (int pos : new int[] {0, n / 2, n - 1}) {
                float[] a = new float[n];
                Arrays.fill(a, 0.5f);
                a[pos] = Float.POSITIVE_INFINITY;
                assertThat(k.sumOfSquares(a, 0, n)).as("%s n=%d inf at %d", k.name(), n, pos)
                        .isEqualTo(Double.POSITIVE_INFINITY);
                assertThat(k.sumOfAbs(a, 0, n)).isEqualTo(Double.POSITIVE_INFINITY);
                assertThat(k.maxAbs(a, 0, n)).isEqualTo(Double.POSITIVE_INFINITY);
                a[pos] = Float.NEGATIVE_INFINITY;
                assertThat(k.sumOfSquares(a, 0, n)).isEqualTo(Double.POSITIVE_INFINITY);
                assertThat(k.maxAbs(a, 0, n)).isEqualTo(Double.POSITIVE_INFINITY);
                a[pos] = Float.NaN;
                assertThat(k.sumOfSquares(a, 0, n)).as("%s n=%d NaN at %d", k.name(), n, pos).isNaN();
                assertThat(k.sumOfAbs(a, 0, n)).isNaN();
                assertThat(k.maxAbs(a, 0, n)).as("%s n=%d NaN at %d", k.name(), n, pos).isNaN();
                if (n > 1) {
                    a[pos == 0 ? n - 1 : 0] = Float.POSITIVE_INFINITY;
                    assertThat(k.sumOfSquares(a, 0, n)).as("NaN wins over inf").isNaN();
                    assertThat(k.maxAbs(a, 0, n)).as("NaN wins over inf").isNaN();
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void maxAbsIsExact(FloatKernels k) {
        for (Case c : cases(4)) {
            float expected = 0;
            for (int i = c.from; i < c.to; i++) {
                expected = Math.max(expected, Math.abs(c.a[i]));
            }
            assertThat(k.maxAbs(c.a, c.from, c.to)).as("%s: %s", k.name(), c).isEqualTo(expected);
        }
        // the largest element in every position, including the tail
        for (int n : new int[] {1, 17, 33, 65, 1025}) {
            for (int pos = 0; pos < n; pos += Math.max(1, n / 40)) {
                float[] a = new float[n];
                Arrays.fill(a, -1f);
                a[pos] = -7.5f;
                assertThat(k.maxAbs(a, 0, n)).as("n=%d pos=%d", n, pos).isEqualTo(7.5);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void scaleMultipliesEveryElementInRangeOnly(FloatKernels k) {
        for (Case c : cases(5)) {
            // tiny (subnormal) and huge factors: one float multiplication each, overflow included
            for (float factor : new float[] {0.3f, 1e-30f, 7f, 0f, 1e-40f, Float.MIN_VALUE, 3e38f, Float.MAX_VALUE,
                -2.5e-42f}) {
                float[] a = c.a.clone();
                k.scale(a, c.from, c.to, factor);
                for (int i = 0; i < a.length; i++) {
                    float expected = i >= c.from && i < c.to ? c.a[i] * factor : c.a[i];
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(expected)
                            && !(Float.isNaN(a[i]) && Float.isNaN(expected))) {
                        fail("%s: %s factor %s: element %d is %s, expected %s", k.name(), c, factor, i, a[i],
                                expected);
                    }
                }
            }
        }
    }

    /**
     * Factors for {@link FloatKernels#scaleInSteps}: ordinary ones, ones below the smallest normal
     * float (a huge norm clipped to a small threshold), ones whose float rounding overflows (a tiny
     * norm renormalized: 1/1.4e-45 = 7.1e44), up to the ends of the double range, and both signs.
     */
    static final double[] STEP_FACTORS = {0.3, 7, 1e-30, 0, -0.75, Float.MIN_NORMAL, 1e-40, 0x1p-149, 1e-45, 1e-60,
        1e-200, Double.MIN_VALUE, -3e-50, Float.MAX_VALUE, 3.4028235677973366e38, 3.5e38, 1e39, 0x1p149, 7.1e44,
        1e60, 1e200, Double.MAX_VALUE, -2e50};

    /**
     * The float nearest {@code x · r}, with {@code r} the factor rounded to 24 significant bits (a
     * float of unlimited exponent range): the product of two 24-bit significands is exact in a
     * double, so one cast rounds it once. Out of the double range it is 0 or infinite, as in float.
     */
    static float nearestProduct(float x, double factor) {
        if (factor == 0 || !Double.isFinite(factor)) {
            return (float) (x * factor);
        }
        int e = Math.getExponent(factor);
        // the significand rounded to float, in [1, 2]; scaled back after the exact product, since the
        // rounded factor itself may exceed the double range (Double.MAX_VALUE rounds up to 2^1024)
        double significand = (float) Math.scalb(factor, -e);
        double product = Math.scalb(x * significand, e);
        if (product != 0 && Math.abs(product) < Double.MIN_NORMAL) {
            // the exact product lies far below the float range, where the double already rounded
            return Math.copySign(0f, (float) product);
        }
        return (float) product;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void scaleInStepsAppliesTinyAndHugeFactorsWithoutRoundingThemToZeroOrInfinity(FloatKernels k) {
        for (Case c : cases(15)) {
            for (double factor : STEP_FACTORS) {
                float[] a = c.a.clone();
                k.scaleInSteps(a, c.from, c.to, factor);
                boolean tiny = factor != 0 && Math.abs(factor) < Float.MIN_NORMAL;
                for (int i = 0; i < a.length; i++) {
                    boolean inRange = i >= c.from && i < c.to;
                    float expected = inRange ? nearestProduct(c.a[i], factor) : c.a[i];
                    if (Float.floatToRawIntBits(a[i]) == Float.floatToRawIntBits(expected)
                            || Float.isNaN(a[i]) && Float.isNaN(expected)) {
                        continue;
                    }
                    // a tiny factor's powers of two come last: a subnormal result may round twice
                    boolean oneSubnormalStep = tiny && Math.abs(expected) < Float.MIN_NORMAL
                            && Math.abs((double) a[i] - expected) <= Float.MIN_VALUE;
                    if (!inRange || !oneSubnormalStep) {
                        fail("%s: %s factor %s: element %d (%s) became %s, expected %s", k.name(), c, factor, i,
                                c.a[i], a[i], expected);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void scaleInStepsKeepsFiniteDataFiniteUnlessTheTrueProductOverflows(FloatKernels k) {
        for (int n : new int[] {1, 3, 17, 64, 1025}) {
            // the renormalize case of the audit: norm 1.4e-45, factor 1/1.4e-45 = 2^149 = 7.1e44
            float[] a = new float[n];
            a[n / 2] = Float.MIN_VALUE;
            k.scaleInSteps(a, 0, n, 1.0 / Float.MIN_VALUE);
            for (int i = 0; i < n; i++) {
                assertThat(a[i]).as("%s n=%d element %d", k.name(), n, i).isEqualTo(i == n / 2 ? 1f : 0f);
            }
            // a factor far above the float range on data just small enough
            float[] b = new float[n];
            Arrays.fill(b, 1e-30f);
            b[0] = -Float.MIN_VALUE;
            k.scaleInSteps(b, 0, n, 1e60);
            assertThat(b[0]).isEqualTo(nearestProduct(-Float.MIN_VALUE, 1e60)).isFinite().isNegative();
            for (int i = 1; i < n; i++) {
                assertThat(b[i]).as("%s n=%d element %d", k.name(), n, i).isEqualTo(nearestProduct(1e-30f, 1e60))
                        .isCloseTo(1e30f, org.assertj.core.data.Percentage.withPercentage(1e-5));
            }
            // where the true product overflows, infinity with the right sign; zeros stay zero, never NaN
            float[] c = new float[n];
            c[0] = 1e-2f;
            c[n - 1] = n > 1 ? -2e-5f : 1e-2f;
            k.scaleInSteps(c, 0, n, 1e45);
            assertThat(c[0]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(c[n - 1]).isEqualTo(n > 1 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
            for (int i = 1; i < n - 1; i++) {
                assertThat(c[i]).as("%s n=%d element %d", k.name(), n, i).isZero();
            }
            // a huge value times a tiny factor keeps its digits: 3e38 · 1e-60 = 3e-22
            float[] d = new float[n];
            Arrays.fill(d, 3e38f);
            k.scaleInSteps(d, 0, n, 1e-60);
            for (float x : d) {
                assertThat(x).isEqualTo(nearestProduct(3e38f, 1e-60))
                        .isCloseTo(3e-22f, org.assertj.core.data.Percentage.withPercentage(1e-5));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void clampBoundsEveryElementAndCountsChanges(FloatKernels k) {
        Random r = new Random(6);
        for (Case c : cases(6)) {
            float[] a = c.a.clone();
            // a few non-finite values inside the range
            for (int j = 0; j < (c.to - c.from) / 50; j++) {
                int i = c.from + r.nextInt(c.to - c.from);
                a[i] = j % 3 == 0 ? Float.NaN : j % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
            float[] before = a.clone();
            float limit = median(before, c.from, c.to);
            if (!(limit > 0)) {
                limit = 1f;
            }
            long changed = k.clamp(a, c.from, c.to, limit);
            long expectedChanged = 0;
            for (int i = 0; i < a.length; i++) {
                float x = before[i];
                float expected = x;
                if (i >= c.from && i < c.to) {
                    if (x > limit) {
                        expected = limit;
                        expectedChanged++;
                    } else if (x < -limit) {
                        expected = -limit;
                        expectedChanged++;
                    }
                }
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(expected)
                        && !(Float.isNaN(a[i]) && Float.isNaN(expected))) {
                    fail("%s: %s limit %s: element %d is %s, expected %s", k.name(), c, limit, i, a[i], expected);
                }
            }
            assertThat(changed).as("%s: %s changed count", k.name(), c).isEqualTo(expectedChanged);
            assertThat(k.clamp(a, c.from, c.to, limit)).as("clamping twice changes nothing").isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void clampSumOfSquaresWritesWhatClampWritesAndMeasuresTheResult(FloatKernels k) {
        Random r = new Random(16);
        for (Case c : cases(16)) {
            float[] a = c.a.clone();
            float limit = median(a, c.from, c.to);
            if (!(limit > 0)) {
                limit = 1f;
            }
            if (r.nextBoolean()) {
                limit *= 1e-25f; // nearly everything clamped to a value whose square is tiny in float
            }
            float[] expected = a.clone();
            long expectedChanged = k.clamp(expected, c.from, c.to, limit);
            long[] changed = {-1};
            double sum = k.clampSumOfSquares(a, c.from, c.to, limit, changed);
            assertThat(changed[0]).as("%s: %s changed count", k.name(), c).isEqualTo(expectedChanged);
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(expected[i])) {
                    fail("%s: %s limit %s: element %d is %s, clamp wrote %s", k.name(), c, limit, i, a[i], expected[i]);
                }
            }
            BigDecimal exact = Exact.sumOfSquares(a, c.from, c.to);
            assertThat(Exact.relativeError(sum, exact)).as("%s: %s limit %s relative error", k.name(), c, limit)
                    .isLessThanOrEqualTo(sumTolerance(c.to - c.from));
        }
        for (int n : new int[] {1, 17, 1000, 5000}) {
            float[] a = new float[n];
            a[n / 2] = Float.NaN;
            assertThat(k.clampSumOfSquares(a, 0, n, 1f, new long[1])).as("%s n=%d NaN", k.name(), n).isNaN();
            float[] b = new float[n];
            java.util.Arrays.fill(b, 3e38f);
            b[n - 1] = Float.POSITIVE_INFINITY;
            long[] changed = new long[1];
            assertThat(k.clampSumOfSquares(b, 0, n, 2e19f, changed)).as("%s n=%d huge limit", k.name(), n)
                    .isCloseTo(n * 4e38, org.assertj.core.data.Percentage.withPercentage(1e-4));
            assertThat(changed[0]).isEqualTo(n);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void clampInOnePassDoesWhatTheSeparatePassesDo(FloatKernels k) {
        Random r = new Random(23);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00123)};
        for (Case c : cases(23)) {
            for (boolean zero : new boolean[] {false, true}) {
                float[] a = c.a.clone();
                int n = c.to - c.from;
                // a third of the cases hold 1 to 3 non-finite elements, anywhere in the range
                if (n > 0 && r.nextInt(3) == 0) {
                    for (int m = 1 + r.nextInt(3); m > 0; m--) {
                        a[c.from + r.nextInt(n)] = bad[r.nextInt(bad.length)];
                    }
                }
                float limit = median(a, c.from, c.to);
                if (!(limit > 0) || !Float.isFinite(limit)) {
                    limit = 1f;
                }
                switch (r.nextInt(4)) {
                    case 0 -> limit *= 1e-25f; // below the vector path's range
                    case 1 -> limit = 1e30f;    // above it: nothing finite changes
                    default -> { }
                }
                float[] expected = a.clone();
                long expectedBad = k.countNonFinite(expected, c.from, c.to);
                int expectedFirst = k.firstNonFinite(expected, c.from, c.to);
                float expectedFirstValue = expectedFirst < 0 ? 0f : expected[expectedFirst];
                if (zero) {
                    k.zeroNonFinite(expected, c.from, c.to);
                }
                boolean finiteBefore = k.countNonFinite(expected, c.from, c.to) == 0;
                long expectedChanged = k.clamp(expected, c.from, c.to, limit);

                float[] asRead = a.clone();
                if (zero) {
                    ScalarKernels.INSTANCE.zeroNonFinite(asRead, c.from, c.to);
                }
                ClampResult got = k.clampInOnePass(a, c.from, c.to, limit, zero);
                String what = k.name() + ": " + c + " limit " + limit + (zero ? " zeroing" : "");
                for (int i = 0; i < a.length; i++) {
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(expected[i])) {
                        fail("%s: element %d is %s, zero-then-clamp wrote %s", what, i, a[i], expected[i]);
                    }
                }
                assertThat(got.changed()).as("%s changed", what).isEqualTo(expectedChanged);
                assertThat(got.nonFiniteCount()).as("%s non-finite count", what).isEqualTo(expectedBad);
                assertThat(got.firstNonFinite()).as("%s first non-finite", what).isEqualTo(expectedFirst);
                assertThat(Float.floatToRawIntBits(got.firstNonFiniteValue())).as("%s first value", what)
                        .isEqualTo(Float.floatToRawIntBits(expectedFirstValue));
                if (finiteBefore) {
                    assertThat(Exact.relativeError(got.sumOfSquaresBefore(), Exact.sumOfSquares(asRead, c.from, c.to))).as("%s before", what)
                            .isLessThanOrEqualTo(sumTolerance(n));
                    assertThat(Exact.relativeError(got.sumOfSquaresAfter(), Exact.sumOfSquares(a, c.from, c.to)))
                            .as("%s after", what).isLessThanOrEqualTo(sumTolerance(n));
                    // the report's norm before equals the norm pass's, bit for bit, where both take
                    // their usual path (the SIMD kernels measure odd blocks and odd limits exactly)
                    boolean usualPath = k == ScalarKernels.INSTANCE || expectedBad == 0
                            && EnumSet.of(Kind.NORMAL, Kind.INTEGERS, Kind.CONSTANT).contains(c.kind)
                            && limit >= 0x1p-30f && limit <= 0x1p60f;
                    if (usualPath) {
                        assertThat(got.sumOfSquaresBefore()).as("%s: before = sumOfSquares, bit for bit", what)
                                .isEqualTo(k.sumOfSquares(asRead, c.from, c.to));
                    }
                } else if (hasNaN(expected, c.from, c.to)) {
                    assertThat(got.sumOfSquaresBefore()).as("%s before with NaN", what).isNaN();
                    assertThat(got.sumOfSquaresAfter()).as("%s after with NaN", what).isNaN();
                } else {
                    assertThat(got.sumOfSquaresBefore()).as("%s before with an infinity", what)
                            .isEqualTo(Double.POSITIVE_INFINITY);
                    assertThat(got.sumOfSquaresAfter()).as("%s after, infinities clamped", what).isFinite();
                }
            }
        }
    }

    private static boolean hasNaN(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Float.isNaN(a[i])) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void nonFiniteScansFindCountAndZero(FloatKernels k) {
        Random r = new Random(7);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.intBitsToFloat(0x7fc00123), Float.intBitsToFloat(0xffa00000)};
        for (Case c : cases(8)) {
            int n = c.to - c.from;
            assertThat(k.firstNonFinite(c.a, c.from, c.to)).as("%s: %s clean", k.name(), c).isEqualTo(-1);
            assertThat(k.countNonFinite(c.a, c.from, c.to)).isZero();
            if (n == 0) {
                continue;
            }
            float[] a = c.a.clone();
            int count = 1 + r.nextInt(Math.min(n, 20));
            int first = Integer.MAX_VALUE;
            boolean[] isBad = new boolean[a.length];
            for (int j = 0; j < count; j++) {
                int i = c.from + r.nextInt(n);
                isBad[i] = true;
                a[i] = bad[r.nextInt(bad.length)];
                first = Math.min(first, i);
            }
            long expectedCount = 0;
            for (boolean b : isBad) {
                expectedCount += b ? 1 : 0;
            }
            assertThat(k.firstNonFinite(a, c.from, c.to)).as("%s: %s first", k.name(), c).isEqualTo(first);
            assertThat(k.countNonFinite(a, c.from, c.to)).as("%s: %s count", k.name(), c)
                    .isEqualTo(expectedCount);
            float[] z = a.clone();
            assertThat(k.zeroNonFinite(z, c.from, c.to)).as("%s: %s zeroed", k.name(), c).isEqualTo(expectedCount);
            for (int i = 0; i < z.length; i++) {
                boolean inRange = i >= c.from && i < c.to;
                if (inRange && isBad[i]) {
                    assertThat(z[i]).as("element %d zeroed", i).isEqualTo(0f);
                } else if (Float.floatToRawIntBits(z[i]) != Float.floatToRawIntBits(a[i])) {
                    fail("%s: %s: element %d changed from %s to %s", k.name(), c, i, a[i], z[i]);
                }
            }
            assertThat(k.countNonFinite(z, c.from, c.to)).isZero();
        }
        // the first bad element in every position of a vector and of the tail
        for (int n : new int[] {1, 16, 17, 33, 70}) {
            for (int pos = 0; pos < n; pos++) {
                float[] a = new float[n];
                a[pos] = Float.NEGATIVE_INFINITY;
                if (pos + 1 < n) {
                    a[n - 1] = Float.NaN;
                }
                assertThat(k.firstNonFinite(a, 0, n)).as("%s n=%d pos=%d", k.name(), n, pos).isEqualTo(pos);
            }
        }
    }

    private static float median(float[] a, int from, int to) {
        float[] m = new float[to - from];
        for (int i = from; i < to; i++) {
            m[i - from] = Math.abs(a[i]);
        }
        Arrays.sort(m);
        return m.length == 0 ? 1f : m[m.length / 2];
    }
}
