package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/**
 * Invariants of the fixed clippers over random gradient sets (several tensors of random rank and
 * shape, magnitudes over many decades), in the spirit of Optax's tests: the clipped norm never
 * exceeds the threshold, clipping is idempotent, nothing changes at or below the threshold, norm
 * clipping keeps the direction, value clipping bounds and keeps signs, AGC bounds every unit.
 * Norms are checked against the exact BigDecimal reference, not the clipper's own measurement.
 */
@Tag("kernels")
class ClipperPropertiesTest {

    static final double REL = 1e-6;
    static final double[] NORM_TYPES = {1.0, 2.0, 3.0, Double.POSITIVE_INFINITY};

    @Provide
    Arbitrary<GradientCase> gradients() {
        return Arbitraries.randomValue(r -> GradientCase.random(r, 3000));
    }

    /** The threshold as a factor of the true norm: from 1/1000 of it (clipped) to 10 times (kept). */
    static double threshold(double norm, double logFactor) {
        double base = norm > 0 ? norm : 1.0;
        return base * Math.pow(10, logFactor);
    }

    static int normTypeIndex(int i) {
        return Math.floorMod(i, NORM_TYPES.length);
    }

    /**
     * The reference norm: double accumulation scaled by the largest magnitude, within about 1e-12
     * of the BigDecimal reference for these sizes (NormAccuracyTest checks the library against
     * BigDecimal itself) and much cheaper, which keeps 200 tries fast.
     */
    static double exactNorm(double p, float[]... g) {
        double max = Exact.maxAbs(g);
        if (p == Double.POSITIVE_INFINITY || max == 0) {
            return max;
        }
        double s = 0;
        for (float[] a : g) {
            for (float x : a) {
                double r = Math.abs(x) / max;
                s += p == 1 ? r : p == 2 ? r * r : Math.pow(r, p);
            }
        }
        return max * Math.pow(s, 1 / p);
    }

    @Property(tries = 200)
    void globalNormIsAtMostTheThreshold(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 1) double logFactor, @ForAll @IntRange(min = 0, max = 3) int pi) {
        double p = NORM_TYPES[pi];
        float[][] g = c.copyGrads();
        double threshold = threshold(exactNorm(p, g), logFactor);
        ClipReport report = Clippers.globalNorm(threshold).withNormType(p).clip(c.set(g));
        assertThat(exactNorm(p, g)).as("p=%s %s", p, report).isLessThanOrEqualTo(threshold * (1 + REL));
        assertThat(report.normBefore()).isCloseTo(exactNorm(p, c.grads().toArray(new float[0][])),
                org.assertj.core.data.Percentage.withPercentage(1e-4));
    }

    @Property(tries = 200)
    void clippingTwiceEqualsClippingOnce(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 1) double logFactor, @ForAll @IntRange(min = 0, max = 3) int pi,
            @ForAll NormScope scope) {
        double p = NORM_TYPES[pi];
        float[][] once = c.copyGrads();
        double threshold = threshold(exactNorm(p, once), logFactor);
        NormClipper clipper = Clippers.norm(threshold, scope).withNormType(p);
        clipper.clip(c.set(once));
        float[][] twice = deepCopy(once);
        ClipReport second = clipper.clip(c.set(twice));
        assertBitwiseEqual(twice, once, "second " + second);
        assertThat(second.clipped()).as("second clip %s", second).isFalse();
    }

    @Property(tries = 200)
    void valueClippingTwiceEqualsOnce(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 1) double logFactor) {
        float[][] once = c.copyGrads();
        double limit = threshold(Exact.maxAbs(once), logFactor);
        Clippers.value(limit).clip(c.set(once));
        float[][] twice = deepCopy(once);
        assertThat(Clippers.value(limit).clip(c.set(twice)).clippedCount()).isZero();
        assertBitwiseEqual(twice, once, "value twice");
    }

    @Property(tries = 200)
    void atOrBelowTheThresholdNothingChanges(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = 0, max = 2) double logFactor, @ForAll @IntRange(min = 0, max = 3) int pi,
            @ForAll NormScope scope) {
        double p = NORM_TYPES[pi];
        float[][] g = c.copyGrads();
        // the clipper's own measure of the norm, as the threshold: "at" the threshold
        double measured = Clippers.globalNorm(Double.MAX_VALUE).withNormType(p).clip(c.set(g)).normBefore();
        double threshold = logFactor < 0.2 ? measured : threshold(measured, logFactor);
        if (threshold == 0) {
            threshold = 1;
        }
        ClipReport report = Clippers.norm(threshold, scope).withNormType(p).clip(c.set(g));
        assertBitwiseEqual(g, c.grads().toArray(new float[0][]), report.toString());
        assertThat(report.clipped()).isFalse();
        assertThat(report.coefficient()).isEqualTo(1.0);
        float[][] v = c.copyGrads();
        double limit = Exact.maxAbs(v) * (logFactor < 0.2 ? 1 : Math.pow(10, logFactor));
        if (limit > 0) {
            assertThat(Clippers.value(limit).clip(c.set(v)).clipped()).isFalse();
            assertBitwiseEqual(v, c.grads().toArray(new float[0][]), "value");
        }
    }

    @Property(tries = 200)
    void normClippingKeepsTheDirection(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 0) double logFactor, @ForAll @IntRange(min = 0, max = 3) int pi) {
        double p = NORM_TYPES[pi];
        float[][] g = c.copyGrads();
        Clippers.globalNorm(threshold(exactNorm(p, g), logFactor)).withNormType(p).clip(c.set(g));
        double dot = 0;
        double a2 = 0;
        double b2 = 0;
        for (int t = 0; t < g.length; t++) {
            float[] a = c.grads().get(t);
            for (int i = 0; i < a.length; i++) {
                // scaled so that squares of tiny or huge floats stay normal doubles
                double x = a[i] * 1e10;
                double y = g[t][i] * 1e10;
                dot += x * y;
                a2 += x * x;
                b2 += y * y;
            }
        }
        if (a2 > 0 && b2 > 0) {
            assertThat(dot / Math.sqrt(a2 * b2)).isGreaterThanOrEqualTo(1 - REL);
        }
    }

    @Property(tries = 200)
    void valueClippingBoundsAndKeepsSigns(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 1) double logFactor) {
        float[][] g = c.copyGrads();
        double limit = threshold(Exact.maxAbs(g), logFactor);
        float bound = (float) limit;
        ClipReport report = Clippers.value(limit).clip(c.set(g));
        long changed = 0;
        for (int t = 0; t < g.length; t++) {
            float[] before = c.grads().get(t);
            for (int i = 0; i < before.length; i++) {
                float x = g[t][i];
                assertThat(Math.abs(x)).isLessThanOrEqualTo(bound);
                assertThat(Math.signum(x)).isEqualTo(Math.signum(before[i]));
                if (Math.abs(before[i]) <= bound) {
                    assertThat(x).isEqualTo(before[i]);
                } else {
                    assertThat(Math.abs(x)).isEqualTo(bound);
                    changed++;
                }
            }
        }
        assertThat(report.clippedCount()).isEqualTo(changed);
        assertThat(report.clipped()).isEqualTo(changed > 0);
    }

    @Property(tries = 200)
    void perTensorAndPerGroupNormsAreAtMostTheThreshold(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 1) double logFactor, @ForAll @IntRange(min = 0, max = 3) int pi) {
        double p = NORM_TYPES[pi];
        double threshold = threshold(exactNorm(p, c.copyGrads()) / c.grads().size(), logFactor);
        float[][] g = c.copyGrads();
        Clippers.norm(threshold).withNormType(p).clip(c.set(g));
        for (int t = 0; t < g.length; t++) {
            double after = exactNorm(p, g[t]);
            assertThat(after).as("tensor %s", c.names().get(t)).isLessThanOrEqualTo(threshold * (1 + REL));
            double before = exactNorm(p, c.grads().get(t));
            if (before <= threshold) {
                assertThat(g[t]).isEqualTo(c.grads().get(t));
            }
        }
        float[][] h = c.copyGrads();
        GradientSet set = c.set(h);
        Clippers.groupNorm(threshold).withNormType(p).clip(set);
        for (var group : NormClipper.groups(set).entrySet()) {
            float[][] members = Arrays.stream(group.getValue()).mapToObj(t -> h[t]).toArray(float[][]::new);
            assertThat(exactNorm(p, members)).as("group %s", group.getKey())
                    .isLessThanOrEqualTo(threshold * (1 + REL));
        }
    }

    @Property(tries = 100)
    void renormalizedTensorsHaveUnitNorm(@ForAll("gradients") GradientCase c, @ForAll NormScope scope) {
        float[][] g = c.copyGrads();
        GradientSet set = c.set(g);
        Clippers.renormalize(scope == NormScope.GLOBAL ? NormScope.TENSOR : scope).clip(set);
        if (scope != NormScope.GROUP) {
            for (int t = 0; t < g.length; t++) {
                double before = exactNorm(2, c.grads().get(t));
                double after = exactNorm(2, g[t]);
                if (before > 0) {
                    assertThat(after).as("tensor %s", c.names().get(t)).isCloseTo(1.0,
                            org.assertj.core.data.Offset.offset(REL));
                } else {
                    assertThat(after).isZero();
                }
            }
        }
    }

    @Property(tries = 200)
    void agcBoundsEveryUnitByItsWeightNorm(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 0) double logLambda) {
        double lambda = Math.pow(10, logLambda);
        float[][] g = c.copyGrads();
        GradientSet set = c.set(g);
        String excluded = c.names().get(c.names().size() - 1);
        ClipReport report = Clippers.agc(lambda).excluding(excluded).clip(set);
        long clippedUnits = 0;
        for (int t = 0; t < g.length; t++) {
            if (c.names().get(t).equals(excluded)) {
                assertThat(g[t]).as("excluded tensor untouched").isEqualTo(c.grads().get(t));
                continue;
            }
            int units = set.unitCount(t);
            int unitSize = units == 0 ? 0 : g[t].length / units;
            for (int u = 0; u < units; u++) {
                float[] w = Arrays.copyOfRange(c.params().get(t), u * unitSize, (u + 1) * unitSize);
                float[] after = Arrays.copyOfRange(g[t], u * unitSize, (u + 1) * unitSize);
                float[] before = Arrays.copyOfRange(c.grads().get(t), u * unitSize, (u + 1) * unitSize);
                double limit = lambda * Math.max(exactNorm(2, w), AgcClipper.DEFAULT_EPSILON);
                assertThat(exactNorm(2, after)).as("%s unit %d", c.names().get(t), u)
                        .isLessThanOrEqualTo(limit * (1 + REL));
                if (exactNorm(2, before) <= limit * (1 - REL)) {
                    assertThat(after).as("unit below its limit untouched").isEqualTo(before);
                } else if (!Arrays.equals(after, before)) {
                    clippedUnits++;
                }
            }
        }
        assertThat(report.clippedCount()).isGreaterThanOrEqualTo(clippedUnits);
        assertThat(report.clipped()).isEqualTo(report.clippedCount() > 0);
    }

    @Property(tries = 200)
    void agcTwiceEqualsAgcOnce(@ForAll("gradients") GradientCase c,
            @ForAll @DoubleRange(min = -3, max = 0) double logLambda) {
        AgcClipper agc = Clippers.agc(Math.pow(10, logLambda));
        float[][] once = c.copyGrads();
        agc.clip(c.set(once));
        float[][] twice = deepCopy(once);
        ClipReport second = agc.clip(c.set(twice));
        assertBitwiseEqual(twice, once, "second " + second);
        assertThat(second.clipped()).isFalse();
    }

    static float[][] deepCopy(float[][] g) {
        float[][] out = new float[g.length][];
        for (int t = 0; t < g.length; t++) {
            out[t] = g[t].clone();
        }
        return out;
    }

    static void assertBitwiseEqual(float[][] actual, float[][] expected, String what) {
        for (int t = 0; t < expected.length; t++) {
            for (int i = 0; i < expected[t].length; i++) {
                if (Float.floatToRawIntBits(actual[t][i]) != Float.floatToRawIntBits(expected[t][i])) {
                    throw new AssertionError(what + ": tensor " + t + " element " + i + " is " + actual[t][i]
                            + ", expected " + expected[t][i]);
                }
            }
        }
    }
}
