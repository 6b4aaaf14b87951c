package dev.gradclip.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Injected faults against the non-finite policies, on a small least-squares problem trained with
 * plain gradient descent: {@code y = W x + b}, {@code W} 2×3, {@code b} 2, full batch of 16.
 */
class FaultPoliciesTest {

    private static final int STEPS = 300;
    private static final float LR = 0.1f;

    /** The problem, its parameters and its gradient buffers. */
    private static final class Regression {
        final float[][] x = new float[16][3];
        final float[][] y = new float[16][2];
        final float[] w = new float[6];
        final float[] b = new float[2];
        final float[] gw = new float[6];
        final float[] gb = new float[2];
        final GradientSet set = GradientSet.builder().add("fc.weight", gw, w, 2, 3).add("fc.bias", gb, b, 2).build();

        Regression() {
            Random r = new Random(1);
            float[] trueW = {1.5f, -2f, 0.5f, 0.25f, 1f, -1f};
            float[] trueB = {0.3f, -0.7f};
            for (int n = 0; n < 16; n++) {
                for (int j = 0; j < 3; j++) {
                    x[n][j] = (float) r.nextGaussian();
                }
                for (int i = 0; i < 2; i++) {
                    float s = trueB[i];
                    for (int j = 0; j < 3; j++) {
                        s += trueW[i * 3 + j] * x[n][j];
                    }
                    y[n][i] = s;
                }
            }
        }

        /** Fills the gradients of the mean loss ½‖Wx + b − y‖² and returns the loss. */
        double gradients() {
            java.util.Arrays.fill(gw, 0f);
            java.util.Arrays.fill(gb, 0f);
            double loss = 0;
            for (int n = 0; n < 16; n++) {
                for (int i = 0; i < 2; i++) {
                    float e = b[i] - y[n][i];
                    for (int j = 0; j < 3; j++) {
                        e += w[i * 3 + j] * x[n][j];
                    }
                    loss += 0.5 * e * e / 16;
                    gb[i] += e / 16;
                    for (int j = 0; j < 3; j++) {
                        gw[i * 3 + j] += e * x[n][j] / 16;
                    }
                }
            }
            return loss;
        }

        void apply() {
            for (int i = 0; i < w.length; i++) {
                w[i] -= LR * gw[i];
            }
            for (int i = 0; i < b.length; i++) {
                b[i] -= LR * gb[i];
            }
        }

        boolean allFinite() {
            for (float v : w) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
            for (float v : b) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Trains, checking after every step that the parameters are finite; returns the final loss. */
    private static double train(Clipper clipper, FaultInjector faults, FaultTally tally) {
        Regression p = new Regression();
        for (long step = 0; step < STEPS; step++) {
            p.gradients();
            Injection inj = faults.inject(step, p.set);
            ClipReport r = clipper.clip(p.set);
            tally.record(inj, r, clipper.nonFinitePolicy());
            if (!r.skipped()) {
                p.apply();
            }
            assertThat(p.allFinite()).as("parameters after step %d (%s)", step, inj).isTrue();
        }
        return p.gradients();
    }

    @Test
    void underSkipTheParametersStayFiniteAndTheRunEndsAsWellAsACleanOne() {
        Clipper clipper = Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP);
        double clean = train(clipper, FaultInjector.builder().build(), new FaultTally());
        FaultTally tally = new FaultTally();
        FaultInjector faults = FaultInjector.builder().seed(9).nonFiniteRate(0.2).spike(0.1, 1000).build();

        double faulty = train(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP), faults, tally);

        // from a loss of several units: a fifth of the steps are skipped, so a little less progress, same quality
        assertThat(clean).isLessThan(1e-5);
        assertThat(faulty).isLessThan(1e-4);
        assertThat(tally.nonFiniteInjected()).isBetween(30L, 90L);
        assertThat(tally.nonFiniteSkipped()).isEqualTo(tally.nonFiniteInjected());
        assertThat(tally.spikesInjected()).isBetween(10L, 50L);
        // a ×1000 spike always exceeds the threshold: clipped, unless a NaN in the same step skipped it
        assertThat(tally.spikesClipped() + tally.spikesSkipped()).isEqualTo(tally.spikesInjected());
        assertThat(tally.spikesPassed()).isZero();
        assertThat(tally.toMap().get("non_finite").get("skipped")).isEqualTo(tally.nonFiniteSkipped());
    }

    @Test
    void underZeroTheParametersStayFiniteAndEveryValueIsCountedAsZeroed() {
        FaultTally tally = new FaultTally();
        double loss = train(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.ZERO),
                FaultInjector.builder().seed(2).nonFiniteRate(0.3).build(), tally);

        assertThat(loss).isLessThan(1e-5);
        assertThat(tally.nonFiniteInjected()).isPositive();
        assertThat(tally.nonFiniteZeroed()).isEqualTo(tally.nonFiniteInjected());
        assertThat(tally.nonFiniteSkipped()).isZero();
    }

    @Test
    void underThrowTheExceptionNamesTheTensorAndElementAndTheGradientsAreUntouched() {
        Regression p = new Regression();
        Clipper clipper = Clippers.globalNorm(1.0);
        FaultInjector faults = FaultInjector.builder().seed(4).nonFiniteRate(0.05).build();
        FaultTally tally = new FaultTally();
        long step = 0;
        NonFiniteGradientException thrown = null;
        Injection fatal = null;
        while (thrown == null) {
            p.gradients();
            Injection inj = faults.inject(step, p.set);
            try {
                ClipReport r = clipper.clip(p.set);
                tally.record(inj, r, clipper.nonFinitePolicy());
                p.apply();
                step++;
            } catch (NonFiniteGradientException e) {
                thrown = e;
                fatal = inj;
                tally.recordStopped(inj);
            }
        }

        assertThat(fatal.step()).isEqualTo(step);
        assertThat(fatal.hasNonFinite()).isTrue();
        assertThat(thrown.tensorName()).isEqualTo(fatal.nonFiniteName());
        assertThat(thrown.elementIndex()).isEqualTo(fatal.nonFiniteIndex());
        assertThat(thrown.getMessage()).contains("tensor '" + fatal.nonFiniteName() + "' element "
                + fatal.nonFiniteIndex() + " is " + fatal.nonFiniteValue());
        assertThat(Float.floatToIntBits(p.set.get(fatal.nonFiniteTensor(), fatal.nonFiniteIndex())))
                .isEqualTo(Float.floatToIntBits(fatal.nonFiniteValue()));
        assertThat(p.allFinite()).isTrue();
        assertThat(tally.nonFiniteStopped()).isEqualTo(1);
        assertThat(tally.nonFiniteInjected()).isEqualTo(1);
    }

    @Test
    void theTallyRoundTripsThroughItsStateAndRejectsAForeignOne() {
        FaultTally tally = new FaultTally();
        train(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP),
                FaultInjector.builder().seed(9).nonFiniteRate(0.2).spike(0.1, 1000).build(), tally);
        FaultTally copy = new FaultTally();
        copy.restoreState(tally.saveState());
        assertThat(copy.toMap()).isEqualTo(tally.toMap());
        assertThat(copy.toString()).isEqualTo(tally.toString());

        byte[] state = tally.saveState();
        assertThatThrownBy(() -> copy.restoreState(new byte[7]))
                .hasMessageContaining("not a fault tally state (7 bytes)");
        state[state.length - 1 - 8 * 5] = -1;
        state[8 + 8 * 4] = (byte) 0x80;
        assertThatThrownBy(() -> copy.restoreState(state))
                .hasMessageContaining("corrupt");
        assertThat(copy.toMap()).isEqualTo(tally.toMap());
    }

    @Test
    void theSameInjectorGivesTheSameRunBitForBit() {
        FaultTally a = new FaultTally();
        FaultTally b = new FaultTally();
        double first = train(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP),
                FaultInjector.builder().seed(21).nonFiniteRate(0.2).spike(0.2, 30).build(), a);
        double second = train(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP),
                FaultInjector.builder().seed(21).nonFiniteRate(0.2).spike(0.2, 30).build(), b);
        assertThat(Double.doubleToRawLongBits(second)).isEqualTo(Double.doubleToRawLongBits(first));
        assertThat(b.toMap()).isEqualTo(a.toMap());
    }
}
