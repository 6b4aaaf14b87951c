package dev.gradclip.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.Clippers;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingStepTest {

    private static TrainingStep adamWithSkip() {
        return TrainingStep.of(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP),
                Optimizers.adam(0.05));
    }

    @Test
    void aNonFiniteStepUnderSkipLeavesParametersAndOptimizerStateExactlyAsTheyWere() {
        LeastSquares p = new LeastSquares();
        TrainingStep step = adamWithSkip();
        for (int k = 0; k < 5; k++) {
            p.gradients(k, 1, false);
            step.update(p.set);
        }
        float[] before = p.parameters();
        byte[] optimizerBefore = step.optimizer().saveState();
        byte[] clipperBefore = step.clipper().saveState();

        p.gradients(5, 1, true);
        StepReport r = step.update(p.set);

        assertThat(r.applied()).isFalse();
        assertThat(r.skipped()).isTrue();
        assertThat(r.clip().nonFiniteCount()).isEqualTo(1);
        assertThat(r.clip().firstNonFiniteTensor()).isEqualTo("fc.weight");
        assertThat(r.optimizerSteps()).isEqualTo(5);
        assertThat(p.parameters()).isEqualTo(before);
        assertThat(step.optimizer().saveState()).isEqualTo(optimizerBefore);
        assertThat(step.optimizer().stepCount()).isEqualTo(5);
        assertThat(step.clipper().saveState()).isEqualTo(clipperBefore);
        assertThat(step.skippedSteps()).isEqualTo(1);
        assertThat(step.calls()).isEqualTo(6);
    }

    @Test
    void aRunWithASkippedStepEqualsTheRunWithoutThatStep() {
        LeastSquares a = new LeastSquares();
        LeastSquares b = new LeastSquares();
        TrainingStep sa = adamWithSkip();
        TrainingStep sb = adamWithSkip();
        for (int k = 0; k < 12; k++) {
            if (k == 6) {
                a.gradients(k, 1, true);
                assertThat(sa.update(a.set).applied()).isFalse();
            }
            a.gradients(k, 1, false);
            sa.update(a.set);
            b.gradients(k, 1, false);
            sb.update(b.set);
        }
        assertThat(a.parameters()).isEqualTo(b.parameters());
        assertThat(sa.optimizer().saveState()).isEqualTo(sb.optimizer().saveState());
    }

    @Test
    void aThrowingStepChangesNothing() {
        LeastSquares p = new LeastSquares();
        TrainingStep step = TrainingStep.of(Clippers.globalNorm(1.0), Optimizers.momentum(0.1, 0.9));
        p.gradients(0, 1, false);
        step.update(p.set);
        float[] before = p.parameters();
        byte[] state = step.saveState();
        p.gradients(1, 1, true);
        float[] gradsBefore = p.gw.clone();
        assertThatThrownBy(() -> step.update(p.set)).isInstanceOf(NonFiniteGradientException.class)
                .hasMessageContaining("fc.weight");
        assertThat(p.parameters()).isEqualTo(before);
        assertThat(p.gw).usingDefaultComparator().isEqualTo(gradsBefore);
        assertThat(step.saveState()).isEqualTo(state);
    }

    @Test
    void aRunRestoredAtStepKContinuesBitIdentically() {
        int total = 40;
        int cut = 17;
        LeastSquares a = new LeastSquares();
        TrainingStep sa = TrainingStep.of(Clippers.globalNorm(0.5),
                Optimizers.adamW(dev.gradclip.Schedule.cosine(0.05, 40, 0.001).withLinearWarmup(5)));
        List<StepReport> ra = new ArrayList<>();
        for (int k = 0; k < total; k++) {
            a.gradients(k, k == 20 ? 100 : 1, false);
            ra.add(sa.update(a.set));
        }

        LeastSquares b = new LeastSquares();
        TrainingStep first = TrainingStep.of(Clippers.globalNorm(0.5),
                Optimizers.adamW(dev.gradclip.Schedule.cosine(0.05, 40, 0.001).withLinearWarmup(5)));
        for (int k = 0; k < cut; k++) {
            b.gradients(k, 1, false);
            first.update(b.set);
        }
        byte[] checkpoint = first.saveState();
        float[] params = b.parameters();

        LeastSquares c = new LeastSquares();
        System.arraycopy(params, 0, c.w, 0, c.w.length);
        System.arraycopy(params, c.w.length, c.b, 0, c.b.length);
        TrainingStep resumed = TrainingStep.of(Clippers.globalNorm(0.5),
                Optimizers.adamW(dev.gradclip.Schedule.cosine(0.05, 40, 0.001).withLinearWarmup(5)));
        resumed.restoreState(checkpoint);
        assertThat(resumed.calls()).isEqualTo(cut);
        for (int k = cut; k < total; k++) {
            c.gradients(k, k == 20 ? 100 : 1, false);
            assertThat(resumed.update(c.set)).isEqualTo(ra.get(k));
        }
        assertThat(c.parameters()).isEqualTo(a.parameters());
        assertThat(resumed.saveState()).isEqualTo(sa.saveState());
    }

    @Test
    void restoringAStateOfOtherSettingsFailsAndChangesNothing() {
        LeastSquares p = new LeastSquares();
        TrainingStep adam = adamWithSkip();
        p.gradients(0, 1, false);
        adam.update(p.set);
        TrainingStep sgd = TrainingStep.of(Clippers.globalNorm(1.0), Optimizers.sgd(0.1));
        byte[] before = sgd.saveState();
        assertThatThrownBy(() -> sgd.restoreState(adam.saveState())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adam");
        assertThat(sgd.saveState()).isEqualTo(before);
        byte[] state = adam.saveState();
        assertThatThrownBy(() -> adam.restoreState(java.util.Arrays.copyOf(state, state.length - 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> adam.restoreState(new byte[] {1, 2, 3, 4, 5}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a gradclip state");
        assertThat(adam.saveState()).isEqualTo(state);
    }

    @Test
    void aStepTheOptimizerRefusesChangesNothingNotEvenTheClipperStatistics() {
        TrainingStep step = TrainingStep.of(Clippers.zClip().withWarmupSteps(2),
                Optimizers.sgd(k -> k < 3 ? 0.1 : Double.NaN));
        LeastSquares p = new LeastSquares();
        for (int k = 0; k < 3; k++) {
            p.gradients(k, 1, false);
            step.update(p.set);
        }
        byte[] state = step.saveState();
        p.gradients(3, 100, false);
        float[] grads = p.gw.clone();
        assertThatThrownBy(() -> step.update(p.set)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("at step 3");
        assertThat(step.saveState()).isEqualTo(state);
        assertThat(p.gw).isEqualTo(grads);
    }

    @Test
    void parametersAreRequired() {
        TrainingStep step = TrainingStep.of(Optimizers.sgd(0.1));
        float[] g = {1};
        assertThatThrownBy(() -> step.update(dev.gradclip.GradientSet.of(g)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("grads[0]");
        assertThat(g[0]).isEqualTo(1f);
    }

    @Test
    void plainArraysWork() {
        TrainingStep step = TrainingStep.of(Clippers.value(1.0), Optimizers.sgd(0.1));
        float[] x = {1f};
        StepReport r = step.update(new float[][] {x}, new float[][] {{2f}});
        assertThat(x[0]).isEqualTo(0.9f);
        assertThat(r.clipped()).isTrue();
        assertThat(r.gradientNorm()).isEqualTo(2.0);
        assertThat(r.learningRate()).isEqualTo(0.1);
        assertThat(step.clippedSteps()).isEqualTo(1);
    }
}
