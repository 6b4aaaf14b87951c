package dev.gradclip.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sharded mode: clipping that exchanges only per-tensor measurements chooses the single-machine
 * clipper's coefficient bit for bit, takes its decision on a NaN or an infinity on any owner, and
 * leaves the owners' tensors as the single-machine clipper leaves them.
 */
class ShardedGradientsTest {

    static final int[] SIZES = {1, 7, 64, 129, 1000, 33, 4096};

    static List<String> names() {
        List<String> n = new ArrayList<>();
        for (int t = 0; t < SIZES.length; t++) {
            n.add("layer" + t);
        }
        return n;
    }

    static List<long[]> shapes() {
        List<long[]> s = new ArrayList<>();
        for (int size : SIZES) {
            s.add(new long[] {size});
        }
        return s;
    }

    static float[][] gradients(Random r, double scale) {
        float[][] g = new float[SIZES.length][];
        for (int t = 0; t < g.length; t++) {
            g[t] = new float[SIZES[t]];
            for (int i = 0; i < g[t].length; i++) {
                g[t][i] = (float) (scale * r.nextGaussian());
            }
        }
        return g;
    }

    static GradientSet set(float[][] g) {
        GradientSet.Builder b = GradientSet.builder();
        for (int t = 0; t < g.length; t++) {
            b.add("layer" + t, g[t], g[t].length);
        }
        return b.build();
    }

    void sameAsOneMachine(Supplier<Clipper> clippers, int steps) {
        Clipper single = clippers.get();
        Clipper sharded = clippers.get();
        Random r = new Random(11);
        int clipped = 0;
        for (int s = 0; s < steps; s++) {
            // norms that vary from step to step, with spikes, so adaptive clippers clip some steps
            float[][] g = gradients(r, s % 4 == 3 ? 5.0 : 0.05 + 0.01 * s);
            ShardedGradients owned = ShardedGradients.distribute(SharedSpark.context(), g, names(), shapes(), 2);
            ClipReport expected = single.clip(set(g));
            ClipReport actual = owned.clip(sharded);
            assertThat(Double.doubleToRawLongBits(actual.coefficient())).as("coefficient at step %d", s)
                    .isEqualTo(Double.doubleToRawLongBits(expected.coefficient()));
            assertThat(actual.normBefore()).isEqualTo(expected.normBefore());
            assertThat(actual.clipped()).isEqualTo(expected.clipped());
            assertThat(owned.gather()).as("the owners' tensors after clipping").isDeepEqualTo(g);
            clipped += expected.clipped() ? 1 : 0;
        }
        assertThat(clipped).as("steps clipped").isPositive();
    }

    @Test
    void globalNormCoefficientIsTheSingleMachineOneBitForBit() {
        sameAsOneMachine(() -> Clippers.globalNorm(1.0), 4);
    }

    @Test
    void adaptiveClippersKeepTheirStatisticsOnTheDriverAndAgreeBitForBit() {
        sameAsOneMachine(Clippers::zClip, 8);
    }

    @Test
    void aBatchGradientReducedOntoItsOwnersIsTheDriversSumAndClipsAsOnOneMachine() {
        TinyMlp model = new TinyMlp(20, 16, 4);
        ShardBatch batch = model.batch(33, 5);
        try (DataParallel exchange = DataParallel.of(SharedSpark.context(), model, 2)) {
            float[][] params = exchange.initialParameters(3);
            float[][] onDriver = exchange.gradient(params, batch).gradients();
            ShardedGradients owned = exchange.gradientSharded(params, batch);
            assertThat(owned.gather()).as("the owners' sums, in partition order as the driver adds")
                    .isDeepEqualTo(onDriver);
            GradientSet.Builder b = GradientSet.builder();
            for (int t = 0; t < onDriver.length; t++) {
                b.add(exchange.names().get(t), onDriver[t], onDriver[t].length);
            }
            ClipReport expected = Clippers.globalNorm(0.01).clip(b.build());
            ClipReport actual = owned.clip(Clippers.globalNorm(0.01));
            assertThat(expected.clipped()).isTrue();
            assertThat(Double.doubleToRawLongBits(actual.coefficient()))
                    .isEqualTo(Double.doubleToRawLongBits(expected.coefficient()));
            assertThat(owned.gather()).isDeepEqualTo(onDriver);
        }
    }

    /** The floats' bits, so that NaN compares equal to the same NaN. */
    static int[][] bits(float[][] g) {
        int[][] b = new int[g.length][];
        for (int t = 0; t < g.length; t++) {
            b[t] = new int[g[t].length];
            for (int i = 0; i < b[t].length; i++) {
                b[t][i] = Float.floatToRawIntBits(g[t][i]);
            }
        }
        return b;
    }

    static float[][] copy(float[][] g) {
        float[][] c = new float[g.length][];
        for (int t = 0; t < g.length; t++) {
            c[t] = g[t].clone();
        }
        return c;
    }

    /**
     * A NaN in tensor 5 (partition 1) and an infinity in tensor 3 (also partition 1) and 4 (partition
     * 0): every policy decides as on one machine, which names tensor 3, the model's first offender.
     */
    @ParameterizedTest
    @EnumSource(value = NonFinitePolicy.class, names = {"THROW", "SKIP", "ZERO"})
    void aNonFiniteGradientOnAnOwnerGetsTheSingleMachinesDecision(NonFinitePolicy policy) {
        float[][] g = gradients(new Random(5), 1.0);
        g[5][17] = Float.NaN;
        g[3][2] = Float.POSITIVE_INFINITY;
        g[3][40] = Float.NaN;
        g[4][0] = Float.NEGATIVE_INFINITY;
        float[][] untouched = copy(g);
        ShardedGradients owned = ShardedGradients.distribute(SharedSpark.context(), g, names(), shapes(), 2);
        Clipper single = Clippers.globalNorm(1.0).withNonFinitePolicy(policy);
        Clipper driver = Clippers.globalNorm(1.0).withNonFinitePolicy(policy);
        if (policy == NonFinitePolicy.THROW) {
            Throwable expected = catchThrowable(() -> single.clip(set(g)));
            assertThat(expected).isInstanceOf(NonFiniteGradientException.class);
            assertThatThrownBy(() -> owned.clip(driver)).isInstanceOf(NonFiniteGradientException.class)
                    .hasMessage(expected.getMessage())
                    .extracting(e -> ((NonFiniteGradientException) e).tensorName()).isEqualTo("layer3");
            assertThat(bits(owned.gather())).as("the owners' tensors after a throw").isDeepEqualTo(bits(untouched));
            return;
        }
        ClipReport expected = single.clip(set(g));
        ClipReport actual = owned.clip(driver);
        assertThat(actual).isEqualTo(expected);
        assertThat(actual.nonFiniteCount()).isEqualTo(4);
        assertThat(actual.skipped()).isEqualTo(policy == NonFinitePolicy.SKIP);
        assertThat(bits(owned.gather())).as("the owners' tensors, bit for bit").isDeepEqualTo(bits(g));
        if (policy == NonFinitePolicy.ZERO) {
            assertThat(g[3][2]).isZero();
            assertThat(expected.clipped()).isTrue();
        } else {
            assertThat(bits(g)).isDeepEqualTo(bits(untouched));
        }
    }

    @Test
    void valueClippingAndAgcOnTheOwnersEqualTheSingleMachineBitForBit() {
        Random r = new Random(9);
        float[][] g = gradients(r, 1.0);
        float[][] w = gradients(r, 0.5);
        List<long[]> shapes = shapes();
        shapes.set(4, new long[] {10, 100}); // AGC clips units: rows of a matrix
        shapes.set(6, new long[] {64, 8, 8});
        for (Clipper[] pair : List.of(new Clipper[] {Clippers.value(0.5), Clippers.value(0.5)},
                new Clipper[] {Clippers.agc(0.05), Clippers.agc(0.05)})) {
            float[][] mine = copy(g);
            GradientSet.Builder b = GradientSet.builder();
            for (int t = 0; t < mine.length; t++) {
                b.add("layer" + t, mine[t], w[t], shapes.get(t));
            }
            ShardedGradients owned = ShardedGradients.distribute(SharedSpark.context(), g, w, names(), shapes, 2);
            ClipReport expected = pair[0].clip(b.build());
            ClipReport actual = owned.clip(pair[1]);
            assertThat(expected.clipped()).as(expected.method()).isTrue();
            assertThat(actual).as(expected.method()).isEqualTo(expected);
            assertThat(owned.gather()).as(expected.method()).isDeepEqualTo(mine);
        }
    }
}
