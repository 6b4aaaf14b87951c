package dev.gradclip.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.GradientShard;
import dev.gradclip.Gradients;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.NormExchange;
import dev.gradclip.TensorLayout;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * gradclip-core's sharded clipper on real Spark tasks: the two tasks of a barrier stage in
 * {@code local[2]} each hold every other tensor and exchange norms through
 * {@link BarrierNormExchange}; every task's reports, clipped tensors and ZClip state equal the
 * single-machine clipper's on the whole gradient, bit for bit. Each exchange costs about a second
 * (see {@link BarrierNormExchange}), so the stage makes only nine.
 */
class BarrierNormExchangeTest {

    static final int WORKERS = 2;

    /** What a worker (or the single machine) saw at one step. */
    record Seen(String label, List<Object> report, String thrown, Map<Integer, int[]> held, byte[] state)
            implements Serializable {
    }

    @Test
    void everyBarrierTaskClipsAsTheSingleMachineBitForBit() {
        List<List<Seen>> workers = Barrier.run(SharedSpark.context(), WORKERS,
                (worker, exchange) -> play(worker, exchange));
        List<Seen> single = play(0, null);
        assertThat(workers).hasSize(WORKERS);
        for (int w = 0; w < WORKERS; w++) {
            List<Seen> mine = workers.get(w);
            assertThat(mine).hasSameSizeAs(single);
            for (int s = 0; s < single.size(); s++) {
                Seen expected = single.get(s);
                Seen actual = mine.get(s);
                String what = "worker " + w + ", " + expected.label();
                assertThat(actual.report()).as(what).isEqualTo(expected.report());
                assertThat(actual.thrown()).as(what).isEqualTo(expected.thrown());
                assertThat(actual.state()).as(what).isEqualTo(expected.state());
                assertThat(actual.held()).as(what).isNotEmpty();
                actual.held().forEach((t, bits) -> assertThat(bits).as(what + ", tensor " + t)
                        .isEqualTo(expected.held().get(t)));
            }
        }
        // the cases exercise what they claim to
        assertThat(single.get(4).report().get(6)).as("zclip clips the spike").isEqualTo(true);
        assertThat(single.get(6).thrown()).contains("layer3");
        assertThat(single.get(7).report().get(7)).as("skipped").isEqualTo(true);
        assertThat(single.get(8).report().get(6)).as("zeroed, then clipped").isEqualTo(true);
    }

    @Test
    void aMessageCarriesEveryDoubleBitForBit() {
        double[] values = {0.0, -0.0, 1.0 / 3, Double.MIN_VALUE, Double.MAX_VALUE, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.NaN, Double.longBitsToDouble(0x7ff8_0000_dead_beefL), -1};
        double[] back = BarrierNormExchange.decode(BarrierNormExchange.encode(values));
        assertThat(back).hasSameSizeAs(values);
        for (int i = 0; i < values.length; i++) {
            assertThat(bits(back[i])).as("element %d", i).isEqualTo(bits(values[i]));
        }
        assertThat(BarrierNormExchange.decode(BarrierNormExchange.encode(new double[0]))).isEmpty();
    }

    /**
     * The steps every worker plays: ZClip over five steps with a spike at the last, its saved state,
     * then global-norm clipping of a gradient holding NaN and infinities on both workers, under THROW,
     * SKIP and ZERO. With {@code exchange == null}, the single machine: every tensor, plain clippers.
     */
    static List<Seen> play(int worker, NormExchange exchange) {
        List<Seen> seen = new ArrayList<>();
        Clipper zclip = clipper(Clippers.zClip().withWarmupSteps(3), exchange);
        for (int s = 0; s < 5; s++) {
            float[][] g = ShardedGradientsTest.gradients(new Random(100 + s), s == 4 ? 5.0 : 0.05 + 0.01 * s);
            seen.add(step("zclip step " + s, zclip, g, worker, exchange != null));
        }
        seen.add(new Seen("zclip state", null, null, Map.of(-1, new int[0]), zclip.saveState()));
        for (NonFinitePolicy policy : List.of(NonFinitePolicy.THROW, NonFinitePolicy.SKIP, NonFinitePolicy.ZERO)) {
            float[][] g = ShardedGradientsTest.gradients(new Random(7), 1.0);
            g[5][17] = Float.NaN;
            g[3][2] = Float.POSITIVE_INFINITY;
            g[4][0] = Float.NEGATIVE_INFINITY;
            seen.add(step("global-norm " + policy,
                    clipper(Clippers.globalNorm(1.0).withNonFinitePolicy(policy), exchange), g, worker,
                    exchange != null));
        }
        return seen;
    }

    static Clipper clipper(Clipper inner, NormExchange exchange) {
        return exchange == null ? inner : Clippers.sharded(inner, exchange);
    }

    static Seen step(String label, Clipper clipper, float[][] g, int worker, boolean sharded) {
        GradientSet.Builder b = GradientSet.builder();
        Map<Integer, int[]> held = new TreeMap<>();
        for (int t = 0; t < g.length; t++) {
            if (!sharded || t % WORKERS == worker) {
                b.add("layer" + t, g[t], g[t].length);
            }
        }
        Gradients mine = b.build();
        if (sharded) {
            mine = GradientShard.of(mine, new TensorLayout(ShardedGradientsTest.names(), ShardedGradientsTest.names()));
        }
        List<Object> report = null;
        String thrown = null;
        try {
            report = fields(clipper.clip(mine));
        } catch (NonFiniteGradientException e) {
            thrown = e.getMessage();
        }
        for (int t = 0; t < g.length; t++) {
            if (!sharded || t % WORKERS == worker) {
                held.put(t, ShardedGradientsTest.bits(new float[][] {g[t]})[0]);
            }
        }
        return new Seen(label, report, thrown, held, null);
    }

    /** Every component of a report, doubles as their bits (reports are not serialisable). */
    static List<Object> fields(ClipReport r) {
        List<Object> f = new ArrayList<>(List.of(r.method(), bits(r.normType()), bits(r.normBefore()),
                bits(r.normAfter()), bits(r.coefficient()), bits(r.threshold()), r.clipped(), r.skipped(),
                r.clippedCount(), r.nonFiniteCount(), r.firstNonFiniteIndex(), r.largest().toString()));
        f.add(r.firstNonFiniteTensor());
        for (double n : r.tensorNorms()) {
            f.add(bits(n));
        }
        return f;
    }

    static long bits(double x) {
        return Double.doubleToRawLongBits(x);
    }
}
