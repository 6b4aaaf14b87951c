package dev.gradclip.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.cli.task.CharLmTask;
import dev.gradclip.cli.task.HeldOutMetric;
import dev.gradclip.cli.task.FashionMnistTask;
import dev.gradclip.cli.task.SequenceRnnTask;
import dev.gradclip.lab.sequence.SequenceTask;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The outcome rule on the cases an audit found misjudged, and on runs that must not be called diverged. */
class OutcomeTest {

    private static final HeldOutMetric ADDING = new HeldOutMetric("error_rate", 0, SequenceRnnTask.criterion(SequenceTask.ADDING));
    private static final HeldOutMetric FASHION = new HeldOutMetric("test_accuracy", 0, FashionMnistTask.CRITERION);
    private static final HeldOutMetric CHAR_LM = new HeldOutMetric("bits_per_char", 0, CharLmTask.criterion(4.3));

    private static double[] losses(int n, double start, double end) {
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            l[i] = start + (end - start) * i / (n - 1);
        }
        return l;
    }

    @Test
    void aCharLmAt137BitsPerCharacterDiverged() {
        // the loss rose from ln 96 = 4.6 nats to 95 nats: blown up, though every number is finite
        Outcome o = Outcome.decide(losses(200, 4.6, 95), 20, 0, "loss", CHAR_LM.withValue(137), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.DIVERGED);
        assertThat(o.reason()).contains("blew up");
    }

    @Test
    void aCharLmWorseThanAUniformGuessDivergedEvenWhenItsLossCameBackDown() {
        // measured at SGD lr 20: the loss rose from 4.6 to a window mean of 20 and came back to 5.3 nats,
        // with 10.6 bits per character on held-out text, four bits above a uniform guess over 96 characters
        double[] l = losses(200, 4.6, 5.3);
        Arrays.fill(l, 20, 60, 20.0);
        Outcome o = Outcome.decide(l, 20, 0, "loss", CHAR_LM.withValue(10.64), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.DIVERGED);
        assertThat(o.reason()).contains("worse than a model that knows nothing");
        // an untrained model sits at the uniform guess, 6.58 bits: stalled, not diverged
        assertThat(Outcome.decide(losses(3, 4.6, 4.55), 20, 0, "loss", CHAR_LM.withValue(6.6), 0).kind())
                .isEqualTo(Outcome.Kind.STALLED);
    }

    @Test
    void aFashionMnistRunDeadAtTenPercentAfterASpikeDiverged() {
        // measured at SGD lr 1: 2.2, 2.8, 19.5, 110, 188, 520, ... then 2.30 (ln 10) for the rest of the run
        double[] l = new double[600];
        Arrays.fill(l, 2.306);
        double[] early = {2.2, 2.8, 19.5, 110, 188, 520, 9.3, 73.9, 30.3, 2.7, 2.4, 2.5};
        System.arraycopy(early, 0, l, 0, early.length);
        Outcome o = Outcome.decide(l, 20, 0, "loss", FASHION.withValue(0.1), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.DIVERGED);
        assertThat(o.reason()).contains("collapsed");
    }

    @Test
    void anAddingRunAtFullErrorAfterItsLossRoseDiverged() {
        double[] l = losses(2000, 0.5, 0.2);
        Arrays.fill(l, 500, 700, 40.0);
        Outcome o = Outcome.decide(l, 20, 0, "loss", ADDING.withValue(1.0), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.DIVERGED);
    }

    @Test
    void aNonFiniteStepDivergedWhateverTheMetric() {
        Outcome o = Outcome.decide(losses(35, 1, 0.5), 20, 36, "loss", ADDING.withValue(Double.NaN), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.DIVERGED);
        assertThat(o.reason()).isEqualTo("non-finite loss at step 36");
    }

    @Test
    void anUntrainedRunIsStalledNotDivergedEvenAtChance() {
        // six steps of a small network: every fresh sequence wrong, but the loss never rose
        Outcome o = Outcome.decide(new double[] {0.4, 0.05, 0.6, 0.3, 0.2, 0.35}, 20, 0, "loss", ADDING.withValue(1.0), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.STALLED);
        Outcome fashion = Outcome.decide(losses(12, 2.3, 2.2), 20, 0, "loss", FASHION.withValue(0.1), 0);
        assertThat(fashion.kind()).isEqualTo(Outcome.Kind.STALLED);
    }

    @Test
    void aRunAtTheConstantPredictorStalled() {
        Outcome o = Outcome.decide(losses(3000, 1.5, 0.021), 20, 0, "loss", ADDING.withValue(0.36), 0);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.STALLED);
        assertThat(o.reason()).contains("misses error rate on fresh sequences at most 0.05");
    }

    @Test
    void aRunThatMeetsTheCriterionLearnedWithItsStepToSuccess() {
        Outcome o = Outcome.decide(losses(3000, 1.5, 0.002), 20, 0, "loss", ADDING.withValue(0.01), 1500);
        assertThat(o.kind()).isEqualTo(Outcome.Kind.LEARNED);
        assertThat(o.stepsToSuccess()).isEqualTo(1500);
        assertThat(Outcome.decide(losses(600, 2.3, 0.5), 20, 0, "loss", FASHION.withValue(0.78), 300).learned()).isTrue();
        assertThat(Outcome.decide(losses(600, 2.3, 0.5), 20, 0, "loss", FASHION.withValue(0.7799), 0).learned())
                .isFalse();
    }
}
