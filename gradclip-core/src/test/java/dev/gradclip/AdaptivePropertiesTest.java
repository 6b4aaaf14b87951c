package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Invariants of the adaptive clippers over random gradient streams with random 100x spikes, checked
 * on the gradients actually written (their norm is measured again), not only on the reports.
 */
class AdaptivePropertiesTest {

    private static final double REL = 1e-6;

    /** A stream of two-tensor gradients whose scale wanders and sometimes spikes 100x. */
    private static float[][] next(Random r, int k) {
        double scale = Math.exp(Math.sin(k / 7.0)) * (r.nextInt(10) == 0 ? 100 : 1);
        float[] w = new float[6];
        float[] b = new float[2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (scale * r.nextGaussian());
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (0.3 * scale * r.nextGaussian());
        }
        return new float[][] {w, b};
    }

    private static GradientSet set(float[][] g) {
        return GradientSet.builder().add("layer.w", g[0], 2, 3).add("layer.b", g[1], 2).build();
    }

    private static double measured(GradientSet s) {
        double[] n = new double[s.tensorCount()];
        s.norms(2.0, n);
        return Math.hypot(n[0], n[1]);
    }

    private static double cosine(float[][] a, float[][] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < a[t].length; i++) {
                dot += (double) a[t][i] * b[t][i];
                na += (double) a[t][i] * a[t][i];
                nb += (double) b[t][i] * b[t][i];
            }
        }
        return na == 0 || nb == 0 ? 1 : dot / Math.sqrt(na * nb);
    }

    private static float[][] copy(float[][] g) {
        return new float[][] {g[0].clone(), g[1].clone()};
    }

    @Property(tries = 40)
    void globalClippersEndAtOrBelowTheirThresholdAndKeepTheDirection(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 100) int percentile) {
        Random r = new Random(seed);
        List<Clipper> clippers = List.of(Clippers.autoClip(percentile), Clippers.zClip().withWarmupSteps(5),
                Clippers.scheduled(Schedule.cosine(3, 50, 0.5)));
        for (Clipper c : clippers) {
            for (int k = 0; k < 60; k++) {
                float[][] g = next(r, k);
                float[][] before = copy(g);
                GradientSet s = set(g);
                ClipReport rep = c.clip(s);
                double after = measured(s);
                assertThat(after).isCloseTo(rep.normAfter(),
                        org.assertj.core.api.Assertions.within(REL * rep.normBefore()));
                if (!Double.isNaN(rep.threshold())) {
                    assertThat(after).as(c.method()).isLessThanOrEqualTo(rep.threshold() * (1 + REL));
                }
                if (!rep.clipped()) {
                    assertThat(g[0]).isEqualTo(before[0]);
                    assertThat(g[1]).isEqualTo(before[1]);
                }
                assertThat(cosine(g, before)).isGreaterThanOrEqualTo(1 - REL);
            }
        }
    }

    @Property(tries = 40)
    void adaGcHoldsEveryTensorToItsOwnBound(@ForAll long seed) {
        Random r = new Random(seed);
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(10);
        for (int k = 0; k < 60; k++) {
            double[] bounds = c.thresholds();
            float[][] g = next(r, k);
            GradientSet s = set(g);
            ClipReport rep = c.clip(s);
            double[] n = new double[2];
            s.norms(2.0, n);
            if (k < 9) {
                assertThat(Math.hypot(n[0], n[1])).isLessThanOrEqualTo(1.0 * (1 + REL));
            } else {
                for (int t = 0; t < 2; t++) {
                    assertThat(n[t]).isLessThanOrEqualTo(1.05 * bounds[t] * (1 + REL));
                }
            }
            assertThat(Math.hypot(n[0], n[1])).isCloseTo(rep.normAfter(),
                    org.assertj.core.api.Assertions.within(REL * rep.normBefore()));
        }
    }

    @Property(tries = 40)
    void adaGcFreezesNoTensorWhateverItsZeroSteps(@ForAll long seed) {
        Random r = new Random(seed);
        int warmup = 10;
        AdaGcClipper c = Clippers.adaGC().withWarmupSteps(warmup);
        // tensor 2 is zero through the first phase and starts late; every tensor is sometimes all zeros
        int start = warmup + r.nextInt(20);
        boolean[] seen = new boolean[3];
        for (int k = 0; k < 80; k++) {
            float[][] wb = next(r, k);
            float[] late = new float[3];
            for (int i = 0; i < late.length; i++) {
                late[i] = k >= start ? (float) (0.5 * r.nextGaussian()) : 0f;
            }
            float[][] g = {wb[0], wb[1], late};
            for (float[] t : g) {
                if (r.nextInt(4) == 0) {
                    java.util.Arrays.fill(t, 0f);
                }
            }
            GradientSet s = GradientSet.builder().add("layer.w", g[0], 2, 3).add("layer.b", g[1], 2)
                    .add("late", g[2], 3).build();
            double[] before = new double[3];
            s.norms(2.0, before);
            double[] bounds = c.thresholds();
            ClipReport rep = c.clip(s);
            double[] after = new double[3];
            s.norms(2.0, after);
            for (int t = 0; t < 3; t++) {
                seen[t] |= before[t] > 0;
                if (before[t] > 0) {
                    // a zeroed tensor is the symptom of a frozen γ: γ_i = 0 gives h_i = 0
                    assertThat(after[t]).as("step %d tensor %d", k, t).isPositive();
                    if (k >= warmup && bounds.length > 0 && !Double.isNaN(bounds[t])) {
                        assertThat(after[t]).isLessThanOrEqualTo(1.05 * bounds[t] * (1 + REL));
                    }
                } else {
                    assertThat(after[t]).isZero();
                }
            }
            assertThat(Math.sqrt(after[0] * after[0] + after[1] * after[1] + after[2] * after[2]))
                    .isLessThanOrEqualTo(rep.threshold() * (1 + REL) + 1e-300);
            double[] gamma = c.thresholds();
            for (int t = 0; t < 3; t++) {
                if (seen[t]) {
                    assertThat(gamma[t]).as("step %d tensor %d", k, t).isPositive().isFinite();
                } else {
                    assertThat(gamma[t]).as("step %d tensor %d", k, t).isNaN();
                }
            }
        }
    }

    @Property(tries = 40)
    void aSpikeGuardNeverTouchesTheGradientsOfASkippedStep(@ForAll long seed) {
        Random r = new Random(seed);
        SpikeGuard guard = Clippers.spikeGuard(Clippers.autoClip(), 5).withWindow(30, 5);
        int skipped = 0;
        for (int k = 0; k < 80; k++) {
            float[][] g = next(r, k);
            float[][] before = copy(g);
            byte[] state = guard.saveState();
            ClipReport rep = guard.clip(set(g));
            if (rep.skipped()) {
                skipped++;
                assertThat(g[0]).isEqualTo(before[0]);
                assertThat(g[1]).isEqualTo(before[1]);
                assertThat(rep.normBefore()).isGreaterThan(rep.threshold());
                // only the guard's skip counters moved: the history and the inner statistics did not
                Clipper fresh = Clippers.spikeGuard(Clippers.autoClip(), 5).withWindow(30, 5);
                fresh.restoreState(state);
                assertThat(((SpikeGuard) fresh).skips()).isEqualTo(guard.skips() - 1);
            }
        }
        assertThat(guard.skips()).isEqualTo(skipped);
    }
}
