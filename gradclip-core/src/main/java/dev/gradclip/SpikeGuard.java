package dev.gradclip;

import dev.gradclip.internal.NormWindow;
import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;
import java.util.Objects;

/**
 * A spike guard around any clipper: when the gradient norm is an outlier of its recent history, the
 * step is skipped (the report says so, the gradients and the inner clipper's statistics are left
 * untouched, and the caller must not apply the step); otherwise the inner clipper clips as usual.
 *
 * <p>Rule, with {@code n} the global norm before clipping (in the inner clipper's norm type) and the
 * history the norms of the last {@code window} accepted steps (100 by default), once the history
 * holds at least {@code warmup} norms (20 by default):
 * <pre>
 *   median rule (on by default, k = 10):   spike if n &gt; k · median(history)
 *   z-score rule (off by default):          spike if (n − mean)/(std + 1e-6) &gt; s
 *                                           (mean and population std of the history)
 * </pre>
 * Either rule firing is a spike. A spike is skipped unless {@code maxConsecutiveSkips} spikes were
 * skipped in a row just before (unbounded by default; bound it so a lasting change of scale is
 * eventually accepted, as Optax's {@code apply_if_finite} gives up after N errors). Only accepted
 * steps enter the history. The report of a skipped step has {@code skipped = true}, the guard's
 * method name and, as threshold, the norm above which the step counted as a spike; {@link #skips()}
 * counts the skipped steps.
 *
 * <p>The guard measures the per-tensor norms once, in the same pass that checks for non-finite
 * values, and hands them to the inner clipper, so guarding costs no extra pass when the inner clipper
 * is one of gradclip's (an {@link AbstractClipper}); any other {@link Clipper} is called through
 * {@link Clipper#clip}, which measures again. Non-finite gradients follow the inner clipper's
 * {@link NonFinitePolicy}; under {@code PROPAGATE} a non-finite norm is not judged and not recorded.
 *
 * <p>Background: PaLM (Chowdhery et al., arXiv:2204.02311, §5.1) recovered from loss spikes by
 * skipping batches; Optax has {@code skip_large_updates}; ZClip (arXiv:2504.02507) detects spikes by
 * z-score.
 */
public final class SpikeGuard extends AbstractClipper {

    /** The median multiple above which a norm is a spike by default. */
    public static final double DEFAULT_MEDIAN_FACTOR = 10.0;
    /** How many accepted norms form the history by default. */
    public static final int DEFAULT_WINDOW = 100;
    /** How many norms the history needs before the guard judges, by default. */
    public static final int DEFAULT_WARMUP = 20;
    /** Added to the standard deviation in the z-score, as in ZClip. */
    public static final double EPSILON = 1e-6;

    private static final String KIND = "spike-guard";
    private static final int STATE_VERSION = 1;

    private final Clipper inner;
    private final double medianFactor;
    private final double zScore;
    private final int warmup;
    private final long maxConsecutiveSkips;
    private final NormWindow history;
    private long consecutive;
    private long skips;

    SpikeGuard(Clipper inner, double medianFactor, double zScore, int window, int warmup, long maxConsecutiveSkips) {
        super(Objects.requireNonNull(inner, "inner").nonFinitePolicy());
        this.inner = inner;
        if (inner instanceof ShardedClipper) {
            throw new IllegalArgumentException("a spike guard goes inside the sharded clipper, so that it judges"
                    + " the exchanged norm: Clippers.sharded(Clippers.spikeGuard(clipper), exchange)");
        }
        if (!Double.isNaN(medianFactor)) {
            Norms.checkThreshold("medianFactor", medianFactor);
        }
        if (!Double.isNaN(zScore)) {
            Norms.checkThreshold("zScore", zScore);
        }
        if (Double.isNaN(medianFactor) && Double.isNaN(zScore)) {
            throw new IllegalArgumentException("a spike guard needs a median factor or a z-score (or both),"
                    + " but both are off;"
                    + " turn the z-score rule on (withZScore) before turning the median rule off");
        }
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        if (warmup < 1 || warmup > window) {
            throw new IllegalArgumentException("warmup must be in [1, window = " + window + "], got " + warmup);
        }
        if (maxConsecutiveSkips < 0) {
            throw new IllegalArgumentException("maxConsecutiveSkips must be >= 0, got " + maxConsecutiveSkips);
        }
        this.medianFactor = medianFactor;
        this.zScore = zScore;
        this.warmup = warmup;
        this.maxConsecutiveSkips = maxConsecutiveSkips;
        this.history = new NormWindow(window);
    }

    /**
     * @param k a norm above {@code k · median} of the history is a spike; finite and positive, or NaN
     *          to turn the median rule off
     * @return a guard with the same settings, that rule and fresh statistics
     * @throws IllegalArgumentException if out of range, or both rules would be off
     */
    public SpikeGuard withMedianFactor(double k) {
        return new SpikeGuard(inner, k, zScore, history.capacity(), warmup, maxConsecutiveSkips);
    }

    /**
     * @param s a norm with z-score above {@code s} is a spike; finite and positive, or NaN to turn the
     *          z-score rule off (the default)
     * @return a guard with the same settings, that rule and fresh statistics
     * @throws IllegalArgumentException if out of range, or both rules would be off
     */
    public SpikeGuard withZScore(double s) {
        return new SpikeGuard(inner, medianFactor, s, history.capacity(), warmup, maxConsecutiveSkips);
    }

    /**
     * @param window how many accepted norms the history holds, ≥ 1
     * @param warmup how many it needs before judging, in [1, window]
     * @return a guard with the same settings, that history and fresh statistics
     * @throws IllegalArgumentException if out of range
     */
    public SpikeGuard withWindow(int window, int warmup) {
        return new SpikeGuard(inner, medianFactor, zScore, window, warmup, maxConsecutiveSkips);
    }

    /**
     * @param max how many spikes in a row may be skipped; the next one is accepted (and recorded)
     * @return a guard with the same settings, that bound and fresh statistics
     * @throws IllegalArgumentException if negative
     */
    public SpikeGuard withMaxConsecutiveSkips(long max) {
        return new SpikeGuard(inner, medianFactor, zScore, history.capacity(), warmup, max);
    }

    /**
     * Returns a guard around the inner clipper with another non-finite policy (which the guard
     * shares with it), with fresh statistics.
     */
    @Override
    public SpikeGuard withNonFinitePolicy(NonFinitePolicy policy) {
        return new SpikeGuard(inner.withNonFinitePolicy(policy), medianFactor, zScore, history.capacity(), warmup,
                maxConsecutiveSkips);
    }

    /** @return the guarded clipper */
    public Clipper inner() {
        return inner;
    }

    /** @return how many steps the guard has skipped */
    public long skips() {
        return skips;
    }

    @Override
    public String method() {
        return inner.method() + "+spike-guard";
    }

    @Override
    protected double normType() {
        return inner instanceof AbstractClipper a ? a.normType() : 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double p = normType();
        double n = Norms.combine(tensorNorms, p);
        double limit = Double.NaN;
        if (Double.isFinite(n) && history.size() >= warmup) {
            if (!Double.isNaN(medianFactor)) {
                limit = medianFactor * history.percentile(50);
            }
            if (!Double.isNaN(zScore)) {
                double mean = history.mean();
                double zLimit = mean + zScore * (history.standardDeviation(mean) + EPSILON);
                limit = Double.isNaN(limit) ? zLimit : Math.min(limit, zLimit);
            }
        }
        if (n > limit && consecutive < maxConsecutiveSkips) {
            consecutive++;
            skips++;
            return new ClipReport(method(), p, n, n, 1.0, limit, false, true, 0, nonFinite.count(),
                    nonFinite.tensorName(), nonFinite.index(), tensorNorms, largest(g, tensorNorms, DEFAULT_TOP_K));
        }
        consecutive = 0;
        if (Double.isFinite(n)) {
            history.add(n);
        }
        return inner instanceof AbstractClipper a ? a.apply(g, tensorNorms, nonFinite) : inner.clip(g);
    }

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION)
                .writeInt(history.capacity())
                .writeDoubles(history.toArray())
                .writeLong(consecutive)
                .writeLong(skips)
                .writeBytes(inner.saveState())
                .toByteArray();
    }

    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        int window = r.readInt();
        double[] norms = r.readDoubles();
        long c = r.readLong();
        long s = r.readLong();
        byte[] innerState = r.readBytes();
        r.finish();
        if (window != history.capacity() || norms == null || c < 0 || s < c) {
            throw new IllegalArgumentException("spike-guard state does not fit this guard (window " + window
                    + ", this guard keeps " + history.capacity() + ")");
        }
        double[] before = history.toArray();
        history.setAll(norms);
        try {
            inner.restoreState(innerState);
        } catch (RuntimeException e) {
            history.setAll(before);
            throw e;
        }
        consecutive = c;
        skips = s;
    }

    @Override
    public String toString() {
        return "spike-guard(" + inner + (Double.isNaN(medianFactor) ? "" : ", k=" + medianFactor)
                + (Double.isNaN(zScore) ? "" : ", z=" + zScore) + ", window=" + history.capacity() + ", warmup="
                + warmup + ")";
    }
}
