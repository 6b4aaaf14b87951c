package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link GradientSet#withParallelism}: every result, bit for bit, is that of one thread, whatever
 * the thread count, since sums are taken per fixed chunk and added in chunk order.
 */
@Tag("kernels")
class GradientSetParallelTest {

    /** Sizes around the chunk size, one much larger, one empty, one tiny. */
    static final int[] SIZES = {3 * GradientSet.CHUNK + 17, 5, 0, GradientSet.CHUNK, GradientSet.CHUNK - 1, 200_003,
        10 * GradientSet.CHUNK + 1};

    static float[][] data(long seed, boolean withBad) {
        Random r = new Random(seed);
        float[][] g = new float[SIZES.length][];
        for (int t = 0; t < SIZES.length; t++) {
            g[t] = new float[SIZES[t]];
            for (int i = 0; i < g[t].length; i++) {
                g[t][i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 3));
            }
        }
        if (withBad) {
            g[5][150_000] = Float.NaN;
            g[6][9 * GradientSet.CHUNK + 3] = Float.NEGATIVE_INFINITY;
            g[0][GradientSet.CHUNK + 1] = Float.POSITIVE_INFINITY;
        }
        return g;
    }

    /** The report and the gradients after a clip, for comparison. */
    record Outcome(ClipReport report, float[][] grads) {
    }

    static Outcome run(int threads, boolean withBad, Function<GradientSet, ClipReport> clip) {
        float[][] g = data(3, withBad);
        GradientSet set = GradientSet.of(g).withParallelism(threads, 1);
        assertThat(set.parallelism()).isEqualTo(threads);
        return new Outcome(clip.apply(set), g);
    }

    static void assertSame(Outcome actual, Outcome expected, String what) {
        ClipperPropertiesTest.assertBitwiseEqual(actual.grads, expected.grads, what);
        assertThat(actual.report.toString()).as(what).isEqualTo(expected.report.toString());
        assertThat(actual.report.tensorNorms()).as(what).containsExactly(expected.report.tensorNorms());
        assertThat(Double.doubleToRawLongBits(actual.report.normBefore())).as(what)
                .isEqualTo(Double.doubleToRawLongBits(expected.report.normBefore()));
        assertThat(Double.doubleToRawLongBits(actual.report.normAfter())).as(what)
                .isEqualTo(Double.doubleToRawLongBits(expected.report.normAfter()));
        assertThat(actual.report.clippedCount()).as(what).isEqualTo(expected.report.clippedCount());
    }

    @Test
    void everyClipIsBitForBitTheSameOnOneToEightThreads() {
        List<Clipper> clippers = List.of(Clippers.globalNorm(1.0), Clippers.globalNorm(1e12),
                Clippers.globalNorm(1.0).withNormType(1), Clippers.globalNorm(1.0).withNormType(Double.POSITIVE_INFINITY),
                Clippers.norm(1.0), Clippers.value(0.5), Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.ZERO),
                Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.PROPAGATE));
        for (Clipper clipper : clippers) {
            for (boolean withBad : new boolean[] {false, true}) {
                if (withBad && clipper.nonFinitePolicy() == NonFinitePolicy.THROW) {
                    continue;
                }
                Outcome one = run(1, withBad, clipper::clip);
                for (int threads = 2; threads <= 8; threads++) {
                    assertSame(run(threads, withBad, clipper::clip), one, clipper + " bad=" + withBad + " on "
                            + threads + " threads");
                }
            }
        }
    }

    @Test
    void theDefaultShareSizeSplitsALargeSetAsTheSmallShares() {
        // 3Mi floats: three shares of at least MIN_FLOATS_PER_SHARE with the public factory
        float[][] g = new float[3][(int) GradientSet.MIN_FLOATS_PER_SHARE];
        Random r = new Random(7);
        for (float[] t : g) {
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) r.nextGaussian();
            }
        }
        float[][] h = ClipperPropertiesTest.deepCopy(g);
        ClipReport three = Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.PROPAGATE)
                .clip(GradientSet.of(g).withParallelism(3));
        ClipReport one = Clippers.value(0.5).withNonFinitePolicy(NonFinitePolicy.PROPAGATE).clip(GradientSet.of(h));
        assertSame(new Outcome(three, g), new Outcome(one, h), "value clip of 3Mi floats on 3 threads");
    }

    @Test
    void zeroPolicyCountsAndZeroesInParallel() {
        Clipper zero = Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.ZERO);
        Outcome one = run(1, true, zero::clip);
        assertThat(one.report.nonFiniteCount()).isEqualTo(3);
        for (int threads = 2; threads <= 4; threads++) {
            assertSame(run(threads, true, zero::clip), one, "ZERO on " + threads + " threads");
        }
    }

    @Test
    void throwOnManyThreadsLeavesTheGradientsUntouched() {
        float[][] g = data(3, true);
        float[][] before = ClipperPropertiesTest.deepCopy(g);
        assertThatThrownBy(() -> Clippers.value(0.5).clip(GradientSet.of(g).withParallelism(4, 1)))
                .isInstanceOfSatisfying(NonFiniteGradientException.class, e -> {
                    assertThat(e.tensorName()).isEqualTo("grads[0]");
                    assertThat(e.elementIndex()).isEqualTo(GradientSet.CHUNK + 1);
                    assertThat(e.nonFiniteCount()).isEqualTo(3);
                });
        ClipperPropertiesTest.assertBitwiseEqual(g, before, "after THROW on 4 threads");
    }

    @Test
    void parallelismMustBePositive() {
        assertThatThrownBy(() -> GradientSet.of(new float[1]).withParallelism(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
    }
}
