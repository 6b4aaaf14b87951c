package dev.gradclip.faults;

import dev.gradclip.Gradients;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Injects faults into gradients, reproducibly, so that tests and users can watch the non-finite
 * policies and the spike defences work: at a given rate one random gradient element becomes NaN,
 * +∞ or −∞ (a bad batch, an overflow in a loss), and at another rate a gradient is multiplied by a
 * large factor (a loss spike).
 *
 * <pre>{@code
 * FaultInjector faults = FaultInjector.builder().seed(7).nonFiniteRate(0.01).spike(0.02, 100).build();
 * for (long step = 0; ...; step++) {
 *     computeGradients(grads);
 *     Injection inj = faults.inject(step, grads);   // before clipping
 *     ClipReport r = clipper.clip(grads);
 *     tally.record(inj, r, clipper.nonFinitePolicy());
 * }
 * }</pre>
 *
 * <p>Each step draws from its own generator seeded by {@code (seed, step)}, so what is injected at
 * step k depends on nothing else: a run resumed from a checkpoint meets exactly the faults the
 * uninterrupted run met, and the injector itself has no state to save. Per step, independently:
 * <ul>
 *   <li>with probability {@code spikeRate}, one tensor chosen uniformly among the non-empty ones
 *       (or every tensor, see {@link Builder#spikeAllTensors(boolean)}) is multiplied by
 *       {@code spikeScale} with {@link Gradients#scale(int, double)};</li>
 *   <li>then, with probability {@code nonFiniteRate}, one element chosen uniformly among all the
 *       gradient elements is set, with {@link Gradients#set(int, long, float)}, to NaN, +∞ or −∞
 *       (each equally likely).</li>
 * </ul>
 * Gradients with no elements receive nothing. Immutable and thread-safe.
 */
public final class FaultInjector {

    private final long seed;
    private final double nonFiniteRate;
    private final double spikeRate;
    private final double spikeScale;
    private final boolean spikeAllTensors;

    private FaultInjector(Builder b) {
        this.seed = b.seed;
        this.nonFiniteRate = b.nonFiniteRate;
        this.spikeRate = b.spikeRate;
        this.spikeScale = b.spikeScale;
        this.spikeAllTensors = b.spikeAllTensors;
    }

    /** @return a builder: seed 0, no faults, spike scale 100, one tensor per spike */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the seed */
    public long seed() {
        return seed;
    }

    /** @return the probability per step of a non-finite element */
    public double nonFiniteRate() {
        return nonFiniteRate;
    }

    /** @return the probability per step of a spike */
    public double spikeRate() {
        return spikeRate;
    }

    /** @return the factor a spike multiplies a gradient by */
    public double spikeScale() {
        return spikeScale;
    }

    /** @return whether a spike multiplies every tensor rather than one */
    public boolean spikeAllTensors() {
        return spikeAllTensors;
    }

    /** @return whether any fault can be injected (a rate above 0) */
    public boolean isActive() {
        return nonFiniteRate > 0 || spikeRate > 0;
    }

    /**
     * Injects this step's faults into the gradients, in place.
     *
     * @param step      the step number, ≥ 0 (the same step always gets the same faults)
     * @param gradients the gradients of that step
     * @return what was injected
     * @throws IllegalArgumentException if {@code step} is negative
     */
    public Injection inject(long step, Gradients gradients) {
        Objects.requireNonNull(gradients, "gradients");
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        int n = gradients.tensorCount();
        long total = 0;
        int nonEmpty = 0;
        for (int t = 0; t < n; t++) {
            long size = gradients.size(t);
            total += size;
            nonEmpty += size > 0 ? 1 : 0;
        }
        if (total == 0 || !isActive()) {
            return Injection.none(step);
        }
        SplittableRandom random = new SplittableRandom(mix(seed, step));
        // every draw is made whether or not it is used, so that one setting never shifts another's
        boolean spike = random.nextDouble() < spikeRate;
        int spikeChoice = random.nextInt(nonEmpty);
        boolean nonFinite = random.nextDouble() < nonFiniteRate;
        long element = random.nextLong(total);
        int kind = random.nextInt(3);

        int spikeTensor = -1;
        String spikeName = null;
        if (spike) {
            if (spikeAllTensors) {
                spikeName = "*";
                for (int t = 0; t < n; t++) {
                    gradients.scale(t, spikeScale);
                }
            } else {
                spikeTensor = nthNonEmpty(gradients, spikeChoice);
                spikeName = gradients.name(spikeTensor);
                gradients.scale(spikeTensor, spikeScale);
            }
        }
        int badTensor = -1;
        String badName = null;
        long badIndex = -1;
        float badValue = 0f;
        if (nonFinite) {
            badTensor = 0;
            long index = element;
            while (index >= gradients.size(badTensor)) {
                index -= gradients.size(badTensor);
                badTensor++;
            }
            badIndex = index;
            badName = gradients.name(badTensor);
            badValue = kind == 0 ? Float.NaN : kind == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            gradients.set(badTensor, badIndex, badValue);
        }
        return new Injection(step, badTensor, badName, badIndex, badValue, spike, spikeTensor, spikeName,
                spike ? spikeScale : 1.0);
    }

    private static int nthNonEmpty(Gradients g, int k) {
        for (int t = 0; t < g.tensorCount(); t++) {
            if (g.size(t) > 0 && k-- == 0) {
                return t;
            }
        }
        throw new IllegalStateException("tensor sizes changed during injection");
    }

    // Stafford's variant 13 of the MurmurHash3 finaliser, so neighbouring steps get unrelated streams
    private static long mix(long seed, long step) {
        long z = seed + (step + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "FaultInjector[seed " + seed + ", non-finite rate " + nonFiniteRate + ", spike rate " + spikeRate
                + " x" + spikeScale + (spikeAllTensors ? " on all tensors" : " on one tensor") + "]";
    }

    /** Settings of a {@link FaultInjector}, validated as they are set. */
    public static final class Builder {
        private long seed;
        private double nonFiniteRate;
        private double spikeRate;
        private double spikeScale = 100.0;
        private boolean spikeAllTensors;

        private Builder() {
        }

        /**
         * @param seed the seed; the same seed and step give the same faults
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param rate probability per step that one element becomes NaN or ±∞, in {@code [0, 1]}
         * @return this builder
         * @throws IllegalArgumentException if {@code rate} is outside {@code [0, 1]} or NaN
         */
        public Builder nonFiniteRate(double rate) {
            this.nonFiniteRate = checkRate("nonFiniteRate", rate);
            return this;
        }

        /**
         * @param rate  probability per step of a spike, in {@code [0, 1]}
         * @param scale the factor a spiked gradient is multiplied by, finite and positive
         * @return this builder
         * @throws IllegalArgumentException if {@code rate} is outside {@code [0, 1]} or {@code scale}
         *                                  is not finite and positive
         */
        public Builder spike(double rate, double scale) {
            this.spikeRate = checkRate("spikeRate", rate);
            if (!(scale > 0) || !Double.isFinite(scale)) {
                throw new IllegalArgumentException("spike scale must be finite and > 0, got " + scale);
            }
            this.spikeScale = scale;
            return this;
        }

        /**
         * @param all {@code true} to multiply every tensor by the scale (the whole gradient, as a bad
         *            batch would), {@code false} (the default) for one random tensor
         * @return this builder
         */
        public Builder spikeAllTensors(boolean all) {
            this.spikeAllTensors = all;
            return this;
        }

        /** @return the injector */
        public FaultInjector build() {
            return new FaultInjector(this);
        }

        private static double checkRate(String name, double rate) {
            if (!(rate >= 0 && rate <= 1)) {
                throw new IllegalArgumentException(name + " must be in [0, 1], got " + rate);
            }
            return rate;
        }
    }
}
