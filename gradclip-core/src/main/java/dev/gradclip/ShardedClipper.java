package dev.gradclip;

import java.util.Objects;

/**
 * A clipper whose gradients are sharded over workers: each worker clips its own
 * {@link GradientShard} exactly as the inner clipper, on one machine, would clip the whole model.
 *
 * <p>Each tensor of the model is held whole by one worker. On every {@link #clip(Gradients) clip},
 * every worker:
 * <ol>
 *   <li>measures the per-tensor norms of its own tensors (and, if one is not finite, counts its NaN
 *       and infinite elements and finds the first);</li>
 *   <li>exchanges them through the {@link NormExchange}, {@code 8·(5 + 2k)} bytes for {@code k}
 *       tensors, and places every worker's norms at their global indices: every worker now holds the
 *       whole model's per-tensor norm vector, in the model's {@link TensorLayout} order;</li>
 *   <li>runs the inner clipper's {@link NonFinitePolicy} and rule on that vector, writing only its own
 *       tensors.</li>
 * </ol>
 *
 * <p><b>Bit-identical to one machine.</b> The single-machine clipper measures each tensor's norm with
 * {@link Gradients#norms} and combines the vector, in index order, with the one combining function
 * every clipper uses ({@code (Σ_t n_t^p)^(1/p)}, {@code max_t n_t} for {@code p = ∞}). A sharded
 * worker measures each of its tensors with the same primitive on the same values (so the same
 * double), the exchange carries doubles exactly, and the rule then runs the same code on the same
 * vector in the same order. So on every worker the global and group norms, the coefficient, every
 * clipped float, the report and the adaptive statistics ({@link AutoClipper}, {@link ZClipper},
 * {@link AdaGcClipper}, {@link SpikeGuard}, {@link ScheduledClipper}) are those of the single machine
 * on the concatenated gradient, bit for bit, and {@link #saveState()} gives the same bytes on every
 * worker and on the single machine. This holds when every worker measures with the same kernel (the
 * same JDK and {@code gradclip.kernels} setting: the SIMD and scalar sums of squares differ in the
 * last bits). Summing one partial {@code Σ n_t^p} per worker instead, as Megatron-LM and PyTorch
 * FSDP all-reduce, agrees only to about 1e-13, because the order of the additions differs.
 *
 * <p><b>Non-finite gradients.</b> The exchanged vector holds every tensor's norm, NaN or infinite
 * where a tensor holds NaN or an infinity, and the total count and first offending element come with
 * it, so the policy's decision is taken from the global view, the same on every worker:
 * {@code THROW} throws on every worker the same {@link NonFiniteGradientException}, naming the lowest
 * numbered offending tensor of the model; {@code SKIP} skips on every worker; {@code ZERO} zeroes
 * each worker's own bad elements and exchanges a second time to measure again; {@code PROPAGATE}
 * goes on everywhere.
 *
 * <p><b>Per-tensor methods.</b> {@link NormClipper} per tensor and per group decide from the exchanged
 * norms too (a group may span workers). {@link AdaGcClipper} keeps its statistics for every tensor
 * of the model on every worker (one double each), so its state is the single machine's everywhere
 * and a worker can take over any tensor. {@link ValueClipper} and {@link AgcClipper} clip element- and
 * unit-wise, which needs no exchange; through this class they share the global non-finite decision,
 * but the {@code normAfter}, {@code coefficient} and {@code clippedCount} of their reports count
 * only this worker's changes (another worker's tensor counts as unchanged), and AGC checks for
 * parameter values on the worker that holds each tensor.
 *
 * <p><b>Data-parallel</b> training, where every worker holds the whole gradient after an all-reduce
 * of the gradients, needs no exchange: clip each copy with the plain inner clipper.
 *
 * <pre>{@code
 * Clipper clipper = Clippers.sharded(Clippers.zClip(), exchange);   // one per worker
 * GradientShard mine = GradientShard.of(localGradients, layout);    // the same layout everywhere
 * ClipReport report = clipper.clip(mine);                           // the same report everywhere
 * }</pre>
 *
 * <p>Every worker must call {@link #clip} once per step, in step (the exchange is a collective). The
 * inner clipper must be one of gradclip's ({@link AbstractClipper}); a {@link SpikeGuard} goes inside,
 * {@code sharded(spikeGuard(c), exchange)}, around a gradclip clipper.
 */
public final class ShardedClipper extends AbstractClipper {

    private final AbstractClipper inner;
    private final NormExchange exchange;

    ShardedClipper(Clipper inner, NormExchange exchange) {
        super(Objects.requireNonNull(inner, "inner").nonFinitePolicy());
        this.exchange = Objects.requireNonNull(exchange, "exchange");
        if (inner instanceof ShardedClipper) {
            throw new IllegalArgumentException(inner.method() + " is sharded already; shard a clipper once");
        }
        if (!(inner instanceof AbstractClipper a)) {
            throw new IllegalArgumentException("only gradclip's own clippers can be sharded, got "
                    + inner.getClass().getName());
        }
        if (inner instanceof SpikeGuard g && !(g.inner() instanceof AbstractClipper)) {
            throw new IllegalArgumentException("the spike guard's inner clipper " + g.inner().getClass().getName()
                    + " is not one of gradclip's, so it cannot be sharded");
        }
        this.inner = a;
    }

    /** @return the clipper whose rule each worker runs */
    public Clipper inner() {
        return inner;
    }

    /** @return the exchange the norms travel through */
    public NormExchange exchange() {
        return exchange;
    }

    @Override
    NormExchange normExchange() {
        return exchange;
    }

    /** @return the inner clipper's name, so that reports equal the single machine's */
    @Override
    public String method() {
        return inner.method();
    }

    /**
     * Returns a sharded clipper, over the same exchange, around the inner clipper with another policy
     * (and fresh statistics).
     */
    @Override
    public ShardedClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new ShardedClipper(inner.withNonFinitePolicy(policy), exchange);
    }

    @Override
    protected double normType() {
        return inner.normType();
    }

    @Override
    protected ClipReport apply(Gradients gradients, double[] tensorNorms, NonFinite nonFinite) {
        return inner.apply(gradients, tensorNorms, nonFinite);
    }

    /** @return the inner clipper's state: the same bytes on every worker and on one machine */
    @Override
    public byte[] saveState() {
        return inner.saveState();
    }

    /**
     * Restores the inner clipper's state; a state saved by the single-machine clipper, or by any
     * worker, fits every worker.
     */
    @Override
    public void restoreState(byte[] state) {
        inner.restoreState(state);
    }

    @Override
    public String toString() {
        return "sharded(" + inner + ")";
    }
}
