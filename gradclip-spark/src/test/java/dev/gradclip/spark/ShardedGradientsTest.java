package dev.gradclip.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Sharded mode: clipping that exchanges only per-tensor norms chooses the single-machine clipper's
 * coefficient bit for bit, and leaves the owners' tensors as the single-machine clipper leaves them.
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

    @Test
    void aClipperThatNeedsElementsIsRefusedWithTheReason() {
        float[][] g = gradients(new Random(1), 1.0);
        ShardedGradients owned = ShardedGradients.distribute(SharedSpark.context(), g, names(), shapes(), 2);
        assertThatThrownBy(() -> owned.clip(Clippers.value(0.1)))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("per-tensor norms only");
    }
}
