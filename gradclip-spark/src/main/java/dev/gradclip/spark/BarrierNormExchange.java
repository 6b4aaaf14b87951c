package dev.gradclip.spark;

import dev.gradclip.NormExchange;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Objects;
import org.apache.spark.BarrierTaskContext;

/**
 * The {@link NormExchange} of a Spark barrier stage: the tasks of one
 * {@code rdd.barrier().mapPartitions(...)} stage exchange their measurements peer to peer through
 * {@link BarrierTaskContext#allGather(String)}, so that each task clips the tensors it holds with
 * {@link dev.gradclip.Clippers#sharded} exactly as the single-machine clipper clips the whole model,
 * without the driver in the step.
 *
 * <pre>{@code
 * rdd.barrier().mapPartitions(it -> {
 *     Clipper clipper = Clippers.sharded(Clippers.zClip(), BarrierNormExchange.current());
 *     for (...) {                                   // every step, in every task
 *         ClipReport r = clipper.clip(GradientShard.of(myGradients, layout));
 *     }
 *     ...
 * }).collect();
 * }</pre>
 *
 * <p>Each double travels as its 8 bytes ({@link Double#doubleToRawLongBits}, big-endian), Base64
 * encoded into the message string, so every worker receives every other worker's array bit for bit,
 * NaN payloads included. Every task of the stage must call {@link #allGather} as often as the others
 * (a sharded clipper does, since its decisions are taken from exchanged values): Spark's barrier
 * fails the stage otherwise.
 *
 * <p><b>Cost.</b> Spark 4.2.0's barrier call sleeps in steps of one second until the coordinator
 * answers (a {@code Thread.sleep(1000)} loop in {@code BarrierTaskContext.runBarrier}), so each
 * exchange takes about one second whatever its size (measured in docs/spark.md). That fits a stage
 * that sets up, or a step that is long anyway; for a step of less than a few seconds the driver loop
 * of {@link ShardedGradients} (one ordinary job per exchange) is faster.
 */
public final class BarrierNormExchange implements NormExchange {

    private final BarrierTaskContext context;

    private BarrierNormExchange(BarrierTaskContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    /**
     * The exchange of the barrier task running on this thread.
     *
     * @return the exchange
     * @throws IllegalStateException if this thread does not run a task of a barrier stage
     */
    public static BarrierNormExchange current() {
        return of(BarrierTaskContext.get());
    }

    /**
     * @param context a barrier task's context
     * @return the exchange through it
     */
    public static BarrierNormExchange of(BarrierTaskContext context) {
        return new BarrierNormExchange(context);
    }

    /**
     * One {@link BarrierTaskContext#allGather(String)} of this task's array among the stage's tasks.
     *
     * @param contribution this task's measurement (not changed)
     * @return every task's array, bit for bit, by partition
     */
    @Override
    public double[][] allGather(double[] contribution) {
        String[] all = context.allGather(encode(contribution));
        double[][] out = new double[all.length][];
        for (int i = 0; i < all.length; i++) {
            out[i] = decode(all[i]);
        }
        return out;
    }

    /** @return the doubles' raw bits, big-endian, Base64 encoded */
    static String encode(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length);
        for (double v : values) {
            b.putLong(Double.doubleToRawLongBits(v));
        }
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** @return the doubles {@link #encode} encoded, bit for bit */
    static double[] decode(String message) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(message));
        double[] out = new double[b.remaining() / 8];
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.longBitsToDouble(b.getLong());
        }
        return out;
    }
}
