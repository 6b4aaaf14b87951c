package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * The adaptive clippers on fixed norm sequences with injected 100x spikes, against the published
 * rules: hand-computed constants for short sequences, and a small independent re-implementation of
 * each rule (written from the formulas in clipping-algorithms.md, in plain doubles, with no code
 * shared with the library) for long ones. ZClip's long sequences are in {@link ZClipGoldenTest},
 * generated in Python from the reference implementation's rule.
 *
 * <p>A one-element gradient {@code [v]} has L2 norm exactly {@code |v|} (the square of a float is
 * exact in a double, and so is its square root), so the sequences are fed exactly.
 */
class AdaptiveGoldenTest {

    private static final Offset<Double> TIGHT = within(1e-12);

    /** Norm sequence: values in [0.5, 1.5) from a fixed LCG, times 100 at the spike steps. */
    static double[] sequence(int length, int... spikes) {
        double[] out = new double[length];
        long s = 12345;
        for (int i = 0; i < length; i++) {
            s = (s * 6364136223846793005L + 1442695040888963407L);
            out[i] = (float) (0.5 + ((s >>> 11) / (double) (1L << 53)));
        }
        for (int k : spikes) {
            out[k] = (float) (out[k] * 100);
        }
        return out;
    }

    /** Clips a one-element gradient of value v; returns the report, the clipped value in {@code after[0]}. */
    private static ClipReport clipScalar(Clipper c, double v, float[] after) {
        float[] g = {(float) v};
        ClipReport r = c.clip(GradientSet.of(g));
        after[0] = g[0];
        return r;
    }

    // ---------------------------------------------------------------- AutoClip

    @Test
    void autoClipUsesNumpysLinearPercentileIncludingTheCurrentNorm() {
        AutoClipper c = Clippers.autoClip(10);
        float[] out = new float[1];
        double[] norms = {1, 2, 3, 4, 100};
        // thresholds by hand: [1] -> 1; [1,2] -> 1.1; [1,2,3] -> 1.2; [1..4] -> 1.3; [1,2,3,4,100] -> 1.4
        double[] expected = {1.0, 1.1, 1.2, 1.3, 1.4};
        for (int i = 0; i < norms.length; i++) {
            ClipReport r = clipScalar(c, norms[i], out);
            assertThat(r.threshold()).isCloseTo(expected[i], TIGHT);
            assertThat(r.normAfter()).isCloseTo(Math.min(norms[i], expected[i]), within(1e-12));
            assertThat(out[0]).isEqualTo((float) norms[i] * (float) (Math.min(1, expected[i] / norms[i])));
        }
        assertThat(c.historySize()).isEqualTo(5);
    }

    @Test
    void autoClipForgetsNormsOutsideItsWindow() {
        AutoClipper c = Clippers.autoClip(50).withWindow(3);
        float[] out = new float[1];
        for (double n : new double[] {100, 1, 2}) {
            clipScalar(c, n, out);
        }
        // window [1, 2, 3] (100 evicted): median 2; without the window it would be (2 + 3)/2 = 2.5
        assertThat(clipScalar(c, 3, out).threshold()).isEqualTo(2.0);
        assertThat(c.historySize()).isEqualTo(3);
    }

    @Test
    void autoClipFollowsTheRuleOnALongSequenceWithSpikes() {
        double[] seq = sequence(300, 50, 51, 200);
        AutoClipper c = Clippers.autoClip(10).withWindow(100);
        List<Double> history = new ArrayList<>();
        float[] out = new float[1];
        for (double n : seq) {
            history.add(n);
            if (history.size() > 100) {
                history.remove(0);
            }
            double[] sorted = history.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double rank = (sorted.length - 1) * 0.10;
            int lo = (int) rank;
            double tau = lo + 1 < sorted.length ? sorted[lo] + (rank - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
            ClipReport r = clipScalar(c, n, out);
            assertThat(r.threshold()).isCloseTo(tau, within(1e-12 * tau));
            assertThat(r.clipped()).isEqualTo(n > tau);
            assertThat(r.normAfter()).isCloseTo(Math.min(n, tau), within(1e-12 * tau));
        }
    }

    // ---------------------------------------------------------------- ZClip

    @Test
    void zClipClipsAZScoreOfTenToMuPlusFiveEighthsSigma() {
        ZClipper c = Clippers.zClip().withWarmupSteps(4).withoutMaxNorm();
        float[] out = new float[1];
        for (double n : new double[] {1, 3, 1, 3}) {
            assertThat(clipScalar(c, n, out).clipped()).isFalse();
        }
        // by hand: μ = 2, σ² = 1
        assertThat(c.mean()).isEqualTo(2.0);
        assertThat(c.variance()).isEqualTo(1.0);
        double spike = (float) (2 + 10 * (1 + 1e-6)); // z = 10 (float rounding moves it by < 1e-6)
        ClipReport r = clipScalar(c, spike, out);
        double z = (spike - 2) / (1 + 1e-6);
        assertThat(z).isCloseTo(10.0, within(1e-5));
        double tau = 2 + 2.5 * 2.5 * 1 / z; // μ + z_t²σ/z = 2.625 at z = 10
        assertThat(tau).isCloseTo(2.625, within(1e-6));
        assertThat(r.clipped()).isTrue();
        assertThat(r.normAfter()).isCloseTo(tau * spike / (spike + 1e-6), TIGHT);
        assertThat((double) out[0]).isCloseTo(2.625, within(1e-5));
        // the clipped norm τ feeds the statistics: μ = 0.97·2 + 0.03·τ, σ² = 0.97·1 + 0.03·(τ − μ)²
        double mu = 0.97 * 2 + 0.03 * tau;
        assertThat(c.mean()).isCloseTo(mu, TIGHT);
        assertThat(c.variance()).isCloseTo(0.97 + 0.03 * (tau - mu) * (tau - mu), TIGHT);
    }

    @Test
    void zClipWithDefaultsClipsTheZTenSpikeToMuPlusFiveEighthsSigmaOfItsOwnStatistics() {
        ZClipper c = Clippers.zClip();
        float[] out = new float[1];
        for (double n : sequence(40)) {
            clipScalar(c, n / 2, out); // norms in [0.25, 0.75): below the cap of 1.0
        }
        double mu = c.mean();
        double sigma = Math.sqrt(c.variance());
        assertThat(mu + 0.625 * sigma).isLessThan(ZClipper.DEFAULT_MAX_NORM);
        double spike = mu + 10 * (sigma + 1e-6);
        ClipReport r = clipScalar(c, spike, out);
        double z = ((float) spike - mu) / (sigma + 1e-6);
        assertThat(z).isCloseTo(10.0, within(1e-5));
        assertThat(r.normAfter()).isCloseTo(mu + 0.625 * sigma, within(1e-5 * sigma));
    }

    @Test
    void zClipCanKeepSpikesOutOfItsStatistics() {
        ZClipper c = Clippers.zClip().withWarmupSteps(4).withSkipStatisticsOnSpike(true);
        float[] out = new float[1];
        for (double n : new double[] {1, 3, 1, 3}) {
            clipScalar(c, n, out);
        }
        assertThat(clipScalar(c, 300, out).clipped()).isTrue();
        assertThat(c.mean()).isEqualTo(2.0);
        assertThat(c.variance()).isEqualTo(1.0);
        // a normal norm still updates them: μ = 0.97·2 + 0.03·2.5
        clipScalar(c, 2.5, out);
        assertThat(c.mean()).isCloseTo(0.97 * 2 + 0.03 * 2.5, TIGHT);
    }

    @Test
    void zClipCanSkipTheStepOfASpike() {
        ZClipper c = Clippers.zClip().withWarmupSteps(4).withoutMaxNorm().withSkipStepOnSpike(true);
        float[] out = new float[1];
        for (double n : new double[] {1, 3, 1, 3}) {
            clipScalar(c, n, out);
        }
        byte[] state = c.saveState();
        ClipReport r = clipScalar(c, 12, out);
        assertThat(r.skipped()).isTrue();
        assertThat(r.threshold()).isCloseTo(2 + 2.5 * (1 + 1e-6), TIGHT);
        assertThat(out[0]).isEqualTo(12f);
        assertThat(c.saveState()).isEqualTo(state);
        assertThat(clipScalar(c, 4, out).skipped()).isFalse(); // z = 2 < 2.5
    }

    @Test
    void zClipWithDefaultsClipsAHugeGradientDuringWarmupToNormOne() {
        ZClipper c = Clippers.zClip();
        assertThat(c.maxNorm()).isEqualTo(1.0);
        for (int k = 0; k < ZClipper.DEFAULT_WARMUP_STEPS; k++) {
            assertThat(c.initialized()).isFalse();
            float[] g = {3e4f, -4e4f}; // norm 5e4
            ClipReport r = c.clip(GradientSet.of(g));
            // PyTorch's clip_grad_norm_(1.0), which the reference calls on warm-up steps
            assertThat(r.coefficient()).isEqualTo(1.0 / (5e4 + 1e-6));
            assertThat(r.threshold()).isEqualTo(1.0);
            assertThat(r.clipped()).isTrue();
            assertThat(Math.hypot(g[0], g[1])).isCloseTo(1.0, within(1e-6));
        }
        // the statistics start from the raw norms, not the clipped ones
        assertThat(c.initialized()).isTrue();
        assertThat(c.mean()).isEqualTo(5e4);
        assertThat(c.variance()).isZero();
    }

    @Test
    void zClipWithDefaultsNeverLetsTheThresholdOrTheNormExceedTheCapAfterWarmup() {
        ZClipper c = Clippers.zClip();
        double[] seq = sequence(300, 40, 41, 150, 280);
        int capped = 0;
        for (int k = 0; k < seq.length; k++) {
            float[] g = {(float) (seq[k] * 30), (float) (-seq[k] * 40)}; // norms 25 to 75, spikes 100x
            ClipReport r = c.clip(GradientSet.of(g));
            assertThat(r.threshold()).as("step %d", k).isLessThanOrEqualTo(1.0);
            assertThat(r.normAfter()).as("step %d", k).isLessThanOrEqualTo(1.0);
            assertThat(Math.hypot(g[0], g[1])).as("step %d", k).isLessThanOrEqualTo(1.0 + 1e-6);
            if (c.initialized() && c.mean() + 2.5 * Math.sqrt(c.variance()) > 1.0) {
                capped++;
            }
        }
        // the adaptive threshold alone would have been far above the cap: the cap did the work
        assertThat(capped).isGreaterThan(200);
        assertThat(c.mean()).isGreaterThan(10.0);
    }

    @Test
    void zClipWithoutMaxNormLeavesWarmupStepsAlone() {
        ZClipper c = Clippers.zClip().withoutMaxNorm();
        assertThat(c.maxNorm()).isNaN();
        float[] g = {3e4f, -4e4f};
        ClipReport r = c.clip(GradientSet.of(g));
        assertThat(r.clipped()).isFalse();
        assertThat(r.threshold()).isNaN();
        assertThat(g).containsExactly(3e4f, -4e4f);
        assertThat(c.toString()).contains("maxNorm=none");
        assertThat(Clippers.zClip().toString()).contains("maxNorm=1.0");
    }

    @Test
    void zClipScalesAWarmupNormJustBelowTheCapAsClipGradNormDoes() {
        // clip_grad_norm_ multiplies by min(1, c/(n + 1e-6)), so a norm within 1e-6 below c is scaled
        float[] g = {(float) (1 - 3e-7)};
        ClipReport r = Clippers.zClip().clip(GradientSet.of(g));
        assertThat(r.coefficient()).isEqualTo(1.0 / ((float) (1 - 3e-7) + 1e-6));
        assertThat(r.clipped()).isTrue();
    }

    @Test
    void zClipRejectsAMaxNormThatIsNotFiniteAndPositive() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> Clippers.zClip().withMaxNorm(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNorm");
        }
        assertThat(Clippers.zClip().withoutMaxNorm().withMaxNorm(2.5).maxNorm()).isEqualTo(2.5);
    }

    @Test
    void zClipTreatsNonFiniteNormsAfterWarmupAsTheReferenceButKeepsThemOutOfItsStatistics() {
        ZClipper c = Clippers.zClip().withoutMaxNorm().withWarmupSteps(2)
                .withNonFinitePolicy(NonFinitePolicy.PROPAGATE);
        float[] out = new float[1];
        clipScalar(c, 1, out);
        clipScalar(c, 3, out);
        byte[] state = c.saveState();
        // ∞: z = ∞ is an outlier with τ = μ, so the coefficient is μ/∞ = 0
        float[] inf = {Float.POSITIVE_INFINITY, 2f};
        assertThat(c.clip(GradientSet.of(inf)).coefficient()).isZero();
        assertThat(inf[1]).isZero();
        // NaN: no comparison holds, nothing is scaled
        float[] nan = {Float.NaN, 2f};
        ClipReport r = c.clip(GradientSet.of(nan));
        assertThat(r.clipped()).isFalse();
        assertThat(nan[1]).isEqualTo(2f);
        assertThat(c.saveState()).isEqualTo(state);
    }

    // ---------------------------------------------------------------- AdaGC

    @Test
    void adaGcByHandWithAShortFirstPhase() {
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(3);
        float[] a = {3};
        float[] b = {4};
        GradientSet set = GradientSet.builder().add("a", a, 1).add("b", b, 1).build();
        // step 1: global 5, h = 1/5: a -> 0.6, b -> 0.8, γ = (0.6, 0.8)
        ClipReport r = c.clip(set);
        assertThat(r.coefficient()).isCloseTo(0.2, TIGHT);
        assertThat(a[0]).isEqualTo(3f * (float) 0.2);
        assertThat(b[0]).isEqualTo(4f * (float) 0.2);
        assertThat(c.thresholds()).containsExactly(new double[] {0.6, 0.8}, within(1e-15));
        // step 2: global 0.5 < λ_abs: untouched, γ = min(γ, (0.3, 0.4))
        a[0] = 0.3f;
        b[0] = 0.4f;
        assertThat(c.clip(set).clipped()).isFalse();
        assertThat(c.thresholds()).containsExactly(new double[] {0.3f, 0.4f}, within(1e-15));
        // step 3 = T_start: a spikes 100x to 30; h_a = 1.05·0.3/30 = 0.0105, b stays (1.05·0.4/0.4 > 1)
        a[0] = 30f;
        r = c.clip(set);
        double ga = 0.3f;
        double ha = 1.05 * ga / 30;
        assertThat(r.coefficient()).isCloseTo(ha, TIGHT);
        assertThat(r.clippedCount()).isEqualTo(1);
        assertThat(a[0]).isEqualTo(30f * (float) ha);
        assertThat(b[0]).isEqualTo(0.4f);
        assertThat((double) a[0]).isCloseTo(0.315, within(1e-6));
        // γ ← 0.98·γ + 0.02·‖ĝ‖: (0.98·0.3 + 0.02·0.315, 0.98·0.4 + 0.02·0.4) = (0.3003, 0.4)
        assertThat(c.thresholds()).containsExactly(new double[] {0.3003, 0.4}, within(1e-7)); // inputs are floats
        assertThat(r.threshold()).isCloseTo(Math.hypot(1.05 * ga, 1.05 * (double) 0.4f), TIGHT);
    }

    @Test
    void adaGcFollowsTheRuleOverBothPhasesWithSpikes() {
        int steps = 160;
        double[] sa = sequence(steps, 30, 120, 121);
        double[] sb = sequence(steps + 7, 90, 140);
        AdaGcClipper c = Clippers.adaGC();
        double[] gamma = new double[2];
        for (int t = 1; t <= steps; t++) {
            float[] a = {(float) sa[t - 1]};
            float[] b = {(float) -sb[t + 6]};
            double na = Math.abs(a[0]);
            double nb = Math.abs(b[0]);
            double ha;
            double hb;
            if (t < 100) {
                double global = Math.sqrt(na * na + nb * nb);
                ha = Math.min(1, 1.0 / global);
                hb = ha;
                gamma[0] = t == 1 ? ha * na : Math.min(gamma[0], ha * na);
                gamma[1] = t == 1 ? hb * nb : Math.min(gamma[1], hb * nb);
            } else {
                ha = Math.min(1, 1.05 * gamma[0] / na);
                hb = Math.min(1, 1.05 * gamma[1] / nb);
                gamma[0] = 0.98 * gamma[0] + 0.02 * ha * na;
                gamma[1] = 0.98 * gamma[1] + 0.02 * hb * nb;
            }
            float ea = ha == 1 ? a[0] : a[0] * (float) ha;
            float eb = hb == 1 ? b[0] : b[0] * (float) hb;
            GradientSet set = GradientSet.builder().add("a", a, 1).add("b", b, 1).build();
            ClipReport r = c.clip(set);
            assertThat(a[0]).as("step %d", t).isEqualTo(ea);
            assertThat(b[0]).as("step %d", t).isEqualTo(eb);
            assertThat(r.coefficient()).isCloseTo(Math.min(ha, hb), TIGHT);
        }
        assertThat(c.thresholds()).containsExactly(gamma, within(1e-12));
        assertThat(c.steps()).isEqualTo(steps);
    }

    @Test
    void adaGcIsNotFrozenByOneAllZeroStepInTheFirstPhase() {
        // the audit's case: b = [0.06, 0.08] every step but step 2, where it is [0, 0]; the paper's rule
        // sets γ_b = min(0.1, 0) = 0 there and zeroes b on every step from T_start = 5 on
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(5);
        double gammaB = Math.hypot(0.06f, 0.08f);
        for (int t = 1; t <= 12; t++) {
            float[] a = {0.3f, 0.4f};
            float[] b = t == 2 ? new float[] {0f, 0f} : new float[] {0.06f, 0.08f};
            ClipReport r = c.clip(GradientSet.builder().add("a", a, 2).add("b", b, 2).build());
            // global norm 0.51 < λ_abs, then each tensor at its own average norm, below λ_rel·γ: untouched
            assertThat(r.clipped()).as("step %d", t).isFalse();
            assertThat(b).as("step %d", t).containsExactly(t == 2 ? new float[] {0f, 0f} : new float[] {0.06f, 0.08f});
            assertThat(c.thresholds()[1]).as("step %d: the zero step left γ_b alone", t).isCloseTo(gammaB, TIGHT);
        }
        assertThat(c.steps()).isEqualTo(12);
    }

    @Test
    void adaGcGivesATensorThatWasZeroThroughoutTheFirstPhaseItsFirstNonZeroNorm() {
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(3);
        float[] a = {0.3f, 0.4f};
        float[] b = {0f, 0f};
        GradientSet set = GradientSet.builder().add("a", a, 2).add("b", b, 2).build();
        for (int t = 1; t <= 5; t++) {
            a[0] = 0.3f;
            a[1] = 0.4f;
            assertThat(c.clip(set).clipped()).isFalse();
            assertThat(b).containsExactly(0f, 0f);
            assertThat(c.thresholds()[1]).as("step %d: no γ_b yet", t).isNaN();
        }
        double gammaA = Math.hypot(0.3f, 0.4f);
        assertThat(c.thresholds()[0]).isCloseTo(gammaA, TIGHT);
        // step 6: b's first non-zero norm, 5: the first phase's rule for this step, h = λ_abs/‖g‖ = 1/5.0249...
        b[0] = 3f;
        b[1] = 4f;
        a[0] = 0.3f;
        a[1] = 0.4f;
        ClipReport r = c.clip(set);
        double h = 1 / Math.hypot(gammaA, 5);
        assertThat(b).containsExactly(3f * (float) h, 4f * (float) h);
        assertThat(a).as("a keeps to its own rule").containsExactly(0.3f, 0.4f);
        assertThat(c.thresholds()[1]).isCloseTo(5 * h, TIGHT);
        assertThat(r.coefficient()).isCloseTo(h, TIGHT);
        assertThat(r.threshold()).as("a's bound and b's norm this step").isCloseTo(Math.hypot(1.05 * gammaA, 5 * h),
                TIGHT);
        // step 7: b at 5 again is held to λ_rel·γ_b = 1.05·5h
        b[0] = 3f;
        b[1] = 4f;
        c.clip(set);
        double hb = 1.05 * 5 * h / 5;
        assertThat(b).containsExactly(3f * (float) hb, 4f * (float) hb);
        assertThat(c.thresholds()[1]).isCloseTo(0.98 * 5 * h + 0.02 * 5 * hb, TIGHT);
        // an all-zero step after the first phase leaves b as it is and its average alone
        double before = c.thresholds()[1];
        b[0] = 0f;
        b[1] = 0f;
        assertThat(c.clip(set).clipped()).isFalse();
        assertThat(b).containsExactly(0f, 0f);
        assertThat(c.thresholds()[1]).isEqualTo(before);
    }

    @Test
    void adaGcReadsALayoutOneStateAndUnfreezesItsZeroThresholds() {
        // saved by the version that zeroed tensors for good: 6 steps, γ = (0.5, 0)
        byte[] old = new dev.gradclip.internal.StateWriter("adagc", 1).writeLong(6)
                .writeDoubles(new double[] {0.5, 0.0}).toByteArray();
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(5);
        c.restoreState(old);
        assertThat(c.steps()).isEqualTo(6);
        assertThat(c.thresholds()[0]).isEqualTo(0.5);
        assertThat(c.thresholds()[1]).isNaN();
        float[] b = {0.06f, 0.08f};
        c.clip(GradientSet.builder().add("a", new float[] {0.3f, 0.4f}, 2).add("b", b, 2).build());
        assertThat(b).as("not zeroed").containsExactly(0.06f, 0.08f);
        assertThat(c.thresholds()[1]).isCloseTo(Math.hypot(0.06f, 0.08f), TIGHT);
        AdaGcClipper d = Clippers.adaGC().withWarmupSteps(5);
        d.restoreState(c.saveState());
        assertThat(d.saveState()).isEqualTo(c.saveState());
        byte[] future = new dev.gradclip.internal.StateWriter("adagc", 3).writeLong(6)
                .writeDoubles(new double[] {0.5, 0.0}).toByteArray();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.restoreState(future))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 3");
    }

    // ---------------------------------------------------------------- spike guard

    @Test
    void spikeGuardSkipsHundredfoldSpikesAndLeavesTheInnerClipperUntouched() {
        double[] seq = sequence(120, 40, 41, 100);
        SpikeGuard guard = Clippers.spikeGuard(Clippers.zClip());
        float[] out = new float[1];
        List<Double> accepted = new ArrayList<>();
        for (int i = 0; i < seq.length; i++) {
            byte[] innerBefore = guard.inner().saveState();
            ClipReport r = clipScalar(guard, seq[i], out);
            // independent rule: after 20 accepted norms, a norm over 10 × median of the last 100 is a spike
            boolean spike = false;
            if (accepted.size() >= 20) {
                double[] w = accepted.subList(Math.max(0, accepted.size() - 100), accepted.size()).stream()
                        .mapToDouble(Double::doubleValue).sorted().toArray();
                double median = w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2;
                spike = seq[i] > 10 * median;
                if (spike) {
                    assertThat(r.threshold()).isCloseTo(10 * median, TIGHT);
                }
            }
            assertThat(r.skipped()).as("step %d", i).isEqualTo(spike);
            if (spike) {
                assertThat(out[0]).isEqualTo((float) seq[i]);
                assertThat(guard.inner().saveState()).isEqualTo(innerBefore);
                assertThat(r.method()).isEqualTo("zclip+spike-guard");
            } else {
                accepted.add(seq[i]);
            }
        }
        assertThat(guard.skips()).isEqualTo(3);
    }

    @Test
    void spikeGuardByZScore() {
        SpikeGuard guard = Clippers.spikeGuard(Clippers.none()).withZScore(3).withMedianFactor(Double.NaN)
                .withWindow(4, 4);
        float[] out = new float[1];
        for (double n : new double[] {1, 3, 1, 3}) {
            assertThat(clipScalar(guard, n, out).skipped()).isFalse();
        }
        // mean 2, population std 1: limit 2 + 3·(1 + 1e-6)
        assertThat(clipScalar(guard, 5.0, out).skipped()).isFalse();
        // window now [3, 1, 3, 5]: mean 3, std sqrt(2)
        ClipReport r = clipScalar(guard, 8.0, out);
        assertThat(r.threshold()).isCloseTo(3 + 3 * (Math.sqrt(2) + 1e-6), TIGHT);
        assertThat(r.skipped()).isTrue();
    }

    @Test
    void spikeGuardGivesUpAfterTheAllowedRunOfSkips() {
        SpikeGuard guard = Clippers.spikeGuard(Clippers.none(), 5).withWindow(10, 3).withMaxConsecutiveSkips(2);
        float[] out = new float[1];
        for (double n : new double[] {1, 1, 1}) {
            clipScalar(guard, n, out);
        }
        assertThat(clipScalar(guard, 100, out).skipped()).isTrue();
        assertThat(clipScalar(guard, 100, out).skipped()).isTrue();
        assertThat(clipScalar(guard, 100, out).skipped()).isFalse();
        assertThat(clipScalar(guard, 100, out).skipped()).isTrue(); // median of [1, 1, 1, 100] is still 1
        assertThat(guard.skips()).isEqualTo(3);
    }

    @Test
    void spikeGuardReusesTheNormsItMeasuredSoThereIsNoSecondPass() {
        for (Clipper inner : List.of(Clippers.globalNorm(1.0), Clippers.zClip(), Clippers.autoClip(),
                Clippers.adaGC(), Clippers.norm(0.5))) {
            SpikeGuard guard = Clippers.spikeGuard(inner);
            for (double n : sequence(40, 30)) {
                CountingGradients g = new CountingGradients(GradientSet.builder()
                        .add("w", new float[] {(float) n, (float) (n / 2)}, 2).add("b", new float[] {1f}, 1).build());
                guard.clip(g);
                assertThat(g.normPasses).as(inner.method()).isEqualTo(1);
            }
            assertThat(guard.skips()).as(inner.method()).isEqualTo(1);
        }
    }

    // ---------------------------------------------------------------- scheduled

    @Test
    void scheduledThresholdFollowsTheScheduleAndSkippedStepsDoNotAdvanceIt() {
        ScheduledClipper c = Clippers.scheduled(Schedule.constant(2.0).withLinearWarmup(4))
                .withNonFinitePolicy(NonFinitePolicy.SKIP);
        float[] out = new float[1];
        assertThat(clipScalar(c, 3, out).threshold()).isEqualTo(0.5);
        assertThat(out[0]).isEqualTo(3f * (float) (0.5 / 3));
        assertThat(clipScalar(c, Double.NaN, out).skipped()).isTrue();
        assertThat(clipScalar(c, 3, out).threshold()).isEqualTo(1.0);
        assertThat(clipScalar(c, 1.4, out).clipped()).isFalse();
        assertThat(clipScalar(c, 3, out).threshold()).isEqualTo(2.0);
        assertThat(c.steps()).isEqualTo(4);
    }

    // ---------------------------------------------------------------- every backend

    @Test
    void everyAdaptiveClipperGivesTheSameResultThroughAnotherBackend() {
        List<java.util.function.Supplier<Clipper>> makers = List.of(Clippers::autoClip, Clippers::zClip,
                () -> Clippers.adaGC().withWarmupSteps(10), () -> Clippers.spikeGuard(Clippers.globalNorm(1.0)),
                () -> Clippers.scheduled(Schedule.cosine(2.0, 30, 0.5)));
        for (var make : makers) {
            Clipper direct = make.get();
            Clipper viaInterface = make.get();
            double[] seq = sequence(60, 25, 50);
            for (double n : seq) {
                float[] g1 = {(float) n, 0.25f, -(float) n};
                float[] g2 = g1.clone();
                ClipReport r1 = direct.clip(GradientSet.builder().add("w", g1, 3).build());
                ClipReport r2 = viaInterface.clip(new CountingGradients(GradientSet.builder().add("w", g2, 3).build()));
                assertThat(r2).isEqualTo(r1);
                assertThat(g2).isEqualTo(g1);
            }
            assertThat(viaInterface.saveState()).isEqualTo(direct.saveState());
            assertThat(Arrays.equals(direct.saveState(), make.get().saveState())).as(direct.method()).isFalse();
        }
    }
}
