package dev.gradclip.faults;

import dev.gradclip.ClipReport;
import dev.gradclip.NonFinitePolicy;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Counts the faults injected into a run and how each was handled, for a run's summary.
 *
 * <p>A non-finite value is <em>skipped</em> when the step was skipped (policy {@code SKIP}),
 * <em>zeroed</em> under {@code ZERO}, <em>propagated</em> under {@code PROPAGATE}, and
 * <em>stopped</em> when it ended the run under {@code THROW}. A spike is <em>skipped</em> when the
 * step was skipped (a spike guard, or a non-finite value in the same step), <em>clipped</em> when the
 * clipper changed the gradients, <em>passed</em> when the step was applied unclipped, and
 * <em>stopped</em> when the step threw.
 *
 * <p>The counts are a run's state: {@link #saveState()} and {@link #restoreState(byte[])} carry them
 * through a checkpoint so that a resumed run's summary equals an uninterrupted one's.
 */
public final class FaultTally {

    private static final int MAGIC = 0x46544C59; // "FTLY"
    private static final int VERSION = 1;
    private static final int COUNTERS = 10;

    private long nonFiniteInjected;
    private long nonFiniteSkipped;
    private long nonFiniteZeroed;
    private long nonFinitePropagated;
    private long nonFiniteStopped;
    private long spikesInjected;
    private long spikesSkipped;
    private long spikesClipped;
    private long spikesPassed;
    private long spikesStopped;

    /** Creates a tally with every count at 0. */
    public FaultTally() {
    }

    /**
     * Records a step that returned a report.
     *
     * @param injection what was injected at the step
     * @param report    the clipper's report for the step
     * @param policy    the clipper's non-finite policy
     */
    public void record(Injection injection, ClipReport report, NonFinitePolicy policy) {
        Objects.requireNonNull(injection, "injection");
        Objects.requireNonNull(report, "report");
        Objects.requireNonNull(policy, "policy");
        if (injection.hasNonFinite()) {
            nonFiniteInjected++;
            if (report.skipped()) {
                nonFiniteSkipped++;
            } else if (policy == NonFinitePolicy.ZERO) {
                nonFiniteZeroed++;
            } else {
                nonFinitePropagated++;
            }
        }
        if (injection.spiked()) {
            spikesInjected++;
            if (report.skipped()) {
                spikesSkipped++;
            } else if (report.clipped()) {
                spikesClipped++;
            } else {
                spikesPassed++;
            }
        }
    }

    /**
     * Records a step that threw (a non-finite gradient under {@code THROW}), ending the run.
     *
     * @param injection what was injected at the step
     */
    public void recordStopped(Injection injection) {
        Objects.requireNonNull(injection, "injection");
        if (injection.hasNonFinite()) {
            nonFiniteInjected++;
            nonFiniteStopped++;
        }
        if (injection.spiked()) {
            spikesInjected++;
            spikesStopped++;
        }
    }

    /** @return the number of non-finite values injected */
    public long nonFiniteInjected() {
        return nonFiniteInjected;
    }

    /** @return the number of injected non-finite values whose step was skipped */
    public long nonFiniteSkipped() {
        return nonFiniteSkipped;
    }

    /** @return the number of injected non-finite values replaced with 0 */
    public long nonFiniteZeroed() {
        return nonFiniteZeroed;
    }

    /** @return the number of injected non-finite values let through */
    public long nonFinitePropagated() {
        return nonFinitePropagated;
    }

    /** @return the number of injected non-finite values that stopped the run */
    public long nonFiniteStopped() {
        return nonFiniteStopped;
    }

    /** @return the number of spikes injected */
    public long spikesInjected() {
        return spikesInjected;
    }

    /** @return the number of injected spikes whose step was skipped */
    public long spikesSkipped() {
        return spikesSkipped;
    }

    /** @return the number of injected spikes that were clipped */
    public long spikesClipped() {
        return spikesClipped;
    }

    /** @return the number of injected spikes applied without clipping */
    public long spikesPassed() {
        return spikesPassed;
    }

    /** @return the number of injected spikes whose step threw */
    public long spikesStopped() {
        return spikesStopped;
    }

    /**
     * The counts as nested maps, in a fixed order, for a JSON summary:
     * {@code {"non_finite": {"injected", "skipped", "zeroed", "propagated", "stopped"},
     * "spikes": {"injected", "skipped", "clipped", "passed", "stopped"}}}.
     *
     * @return a new map
     */
    public Map<String, Map<String, Long>> toMap() {
        Map<String, Long> nf = new LinkedHashMap<>();
        nf.put("injected", nonFiniteInjected);
        nf.put("skipped", nonFiniteSkipped);
        nf.put("zeroed", nonFiniteZeroed);
        nf.put("propagated", nonFinitePropagated);
        nf.put("stopped", nonFiniteStopped);
        Map<String, Long> sp = new LinkedHashMap<>();
        sp.put("injected", spikesInjected);
        sp.put("skipped", spikesSkipped);
        sp.put("clipped", spikesClipped);
        sp.put("passed", spikesPassed);
        sp.put("stopped", spikesStopped);
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        out.put("non_finite", nf);
        out.put("spikes", sp);
        return out;
    }

    /** @return the counts, for a checkpoint */
    public byte[] saveState() {
        ByteBuffer b = ByteBuffer.allocate(8 + COUNTERS * Long.BYTES);
        b.putInt(MAGIC).putInt(VERSION);
        b.putLong(nonFiniteInjected).putLong(nonFiniteSkipped).putLong(nonFiniteZeroed)
                .putLong(nonFinitePropagated).putLong(nonFiniteStopped)
                .putLong(spikesInjected).putLong(spikesSkipped).putLong(spikesClipped).putLong(spikesPassed)
                .putLong(spikesStopped);
        return b.array();
    }

    /**
     * Restores counts saved by {@link #saveState()}; on failure nothing changes.
     *
     * @param state the saved bytes
     * @throws IllegalArgumentException if they are not a tally's state, or a count is negative
     */
    public void restoreState(byte[] state) {
        Objects.requireNonNull(state, "state");
        long[] v = new long[COUNTERS];
        try {
            ByteBuffer b = ByteBuffer.wrap(state);
            if (state.length != 8 + v.length * Long.BYTES || b.getInt() != MAGIC || b.getInt() != VERSION) {
                throw new IllegalArgumentException("not a fault tally state (" + state.length + " bytes)");
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = b.getLong();
                if (v[i] < 0) {
                    throw new IllegalArgumentException("fault tally state is corrupt: count " + i + " is " + v[i]);
                }
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("fault tally state is truncated", e);
        }
        nonFiniteInjected = v[0];
        nonFiniteSkipped = v[1];
        nonFiniteZeroed = v[2];
        nonFinitePropagated = v[3];
        nonFiniteStopped = v[4];
        spikesInjected = v[5];
        spikesSkipped = v[6];
        spikesClipped = v[7];
        spikesPassed = v[8];
        spikesStopped = v[9];
    }

    @Override
    public String toString() {
        return "non-finite: " + nonFiniteInjected + " injected (" + nonFiniteSkipped + " skipped, " + nonFiniteZeroed
                + " zeroed, " + nonFinitePropagated + " propagated, " + nonFiniteStopped + " stopped); spikes: "
                + spikesInjected + " injected (" + spikesSkipped + " skipped, " + spikesClipped + " clipped, "
                + spikesPassed + " passed, " + spikesStopped + " stopped)";
    }
}
