package dev.gradclip.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import org.junit.jupiter.api.Test;

class FaultInjectingClipperTest {

    private static GradientSet gradients() {
        float[] w = new float[20];
        java.util.Arrays.fill(w, 0.01f);
        return GradientSet.builder().add("w", w, 4, 5).add("b", new float[] {0.01f, 0.02f}, 2).build();
    }

    @Test
    void itInjectsTheStepsFaultsThenClipsAndCountsLikeAHandWrittenLoop() {
        FaultInjector faults = FaultInjector.builder().seed(8).nonFiniteRate(0.3).spike(0.3, 1e4).build();
        Clipper plain = Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP);
        FaultTally expected = new FaultTally();
        FaultTally actual = new FaultTally();
        FaultInjectingClipper wrapped = new FaultInjectingClipper(plain, faults, actual, 5);

        for (long step = 5; step < 105; step++) {
            GradientSet byHand = gradients();
            Injection inj = faults.inject(step, byHand);
            ClipReport want = plain.clip(byHand);
            expected.record(inj, want, NonFinitePolicy.SKIP);

            GradientSet g = gradients();
            ClipReport got = wrapped.clip(g);

            assertThat(got).isEqualTo(want);
            assertThat(wrapped.lastInjection()).isEqualTo(inj);
            assertThat(g.gradient(0)).isEqualTo(byHand.gradient(0));
        }
        assertThat(wrapped.nextStep()).isEqualTo(105);
        assertThat(actual.toMap()).isEqualTo(expected.toMap());
        assertThat(actual.spikesInjected()).isPositive();
        assertThat(actual.nonFiniteSkipped()).isEqualTo(actual.nonFiniteInjected()).isPositive();
    }

    @Test
    void underThrowTheInjectionIsCountedAsStoppedAndTheStepDoesNotAdvance() {
        FaultTally tally = new FaultTally();
        FaultInjectingClipper c = new FaultInjectingClipper(Clippers.globalNorm(1.0),
                FaultInjector.builder().nonFiniteRate(1).build(), tally, 0).atStep(41);

        assertThatThrownBy(() -> c.clip(gradients()))
                .isInstanceOf(NonFiniteGradientException.class)
                .hasMessageContaining("tensor '" + c.lastInjection().nonFiniteName() + "' element "
                        + c.lastInjection().nonFiniteIndex());
        assertThat(c.lastInjection().step()).isEqualTo(41);
        assertThat(c.nextStep()).isEqualTo(41);
        assertThat(tally.nonFiniteStopped()).isEqualTo(1);
        assertThat(c.withNonFinitePolicy(NonFinitePolicy.ZERO).nonFinitePolicy()).isEqualTo(NonFinitePolicy.ZERO);
        assertThat(c.method()).isEqualTo("global-norm");
        assertThatThrownBy(() -> c.atStep(-2)).hasMessage("step must be >= 0, got -2");
    }
}
