package dev.gradclip.djl.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.Clippers;
import dev.gradclip.djl.StepResult;
import org.junit.jupiter.api.Test;

/**
 * The product's core claim on the workload of lab-tasks.md: a 50-unit tanh RNN on the adding problem
 * (T = 50, batch 20, every weight N(0, 0.3²), plain SGD with learning rate 0.05) explodes without
 * clipping, and trains with global-norm clipping at 1.0 (Pascanu et al. 2013, arXiv:1211.5063).
 *
 * <p>Both runs see the same initial weights and the same batches (seed 3). Measured on this seed
 * and seeds 4–6 with DJL 0.36 / libtorch 2.7.1 on CPU: unclipped, the loss is NaN or infinite at
 * steps 99–108; clipped, the first gradient norms are about 1e4, the loss falls from its start (0.3–3.6 half
 * squared error) to the level of the constant predictor 0.5 (half squared error 1/48 ≈ 0.021) within
 * 500–1,750 steps and stays finite, hovering at 0.021–0.048 on fresh sequences through 5,000 steps.
 * It does not go below the constant predictor at T = 50: seed 1 was still at 0.024 (training loss,
 * mean of the last 1,000 steps) after 20,000 steps, so lab-tasks.md's "about 0.012 in 1,600 steps"
 * did not reproduce. The same network and optimizer at T = 10 do learn the task with clipping, while
 * the unclipped run still explodes: that is the claim's test below (seeds 1–4: unclipped runs
 * diverge at steps 35–51; clipped ones fall below the constant predictor within 750 steps).
 */
class ExplodingRnnTest {

    private static final long SEED = 3;
    /** Half the MSE of predicting the mean 0.5: Var((U1 + U2)/2) / 2 = (1/24) / 2. */
    private static final double CONSTANT_PREDICTOR_LOSS = 1.0 / 48;

    private static RnnWorkload.Builder workload() {
        return workload(50);
    }

    private static RnnWorkload.Builder workload(int length) {
        return RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(length).optHiddenSize(50)
                .optBatchSize(20).optInit(RnnInit.normal(0.3)).optLearningRate(0.05f).optSeed(SEED);
    }

    @Test
    void atLengthTenClippingTurnsAnExplodingRunIntoOneThatLearnsTheTask() {
        try (RnnWorkload w = workload(10).build()) {
            int divergedAt = -1;
            for (int step = 1; step <= 400 && divergedAt < 0; step++) {
                if (!Double.isFinite(w.trainBatch().loss())) {
                    divergedAt = step;
                }
            }
            assertThat(divergedAt).as("unclipped: the step whose loss is NaN or infinite").isBetween(1, 400);
        }
        // SGD at lr 0.05 keeps the loss on fresh sequences swinging (0.005 to 0.018 from one evaluation
        // to the next on this seed), so the claim is checked on the mean of five evaluations
        try (RnnWorkload w = workload(10).optClipper(Clippers.globalNorm(1.0)).build()) {
            double loss = 0;
            double errors = 0;
            for (int step = 1; step <= 2000; step++) {
                StepResult r = w.trainBatch();
                assertThat(r.loss()).as("clipped: loss at step " + step).isFinite();
                if (step >= 1000 && step % 250 == 0) {
                    RnnWorkload.Evaluation e = w.evaluate(2000);
                    loss += e.loss() / 5;
                    errors += e.errorRate() / 5;
                }
            }
            assertThat(loss).as("clipped: mean loss on fresh sequences at steps 1000-2000")
                    .isLessThan(0.75 * CONSTANT_PREDICTOR_LOSS);
            assertThat(errors).as("clipped: mean error rate, against 36% for the constant predictor")
                    .isLessThan(0.25);
        }
    }

    @Test
    void unclippedTrainingBlowsUp() {
        try (RnnWorkload w = workload().build()) {
            int divergedAt = -1;
            for (int step = 1; step <= 400 && divergedAt < 0; step++) {
                if (!Double.isFinite(w.trainBatch().loss())) {
                    divergedAt = step;
                }
            }
            assertThat(divergedAt).as("the step whose loss is NaN or infinite").isBetween(1, 400);
        }
    }

    @Test
    void clippedTrainingStaysFiniteAndLearnsTheMean() {
        try (RnnWorkload w = workload().optClipper(Clippers.globalNorm(1.0)).build()) {
            RnnWorkload.Evaluation before = w.evaluate(2000);
            double firstNorm = 0;
            double firstLosses = 0;
            double lastLosses = 0;
            int steps = 800;
            for (int step = 1; step <= steps; step++) {
                StepResult r = w.trainBatch();
                assertThat(r.loss()).as("loss at step " + step).isFinite();
                if (step == 1) {
                    firstNorm = r.report().normBefore();
                }
                if (step <= 50) {
                    firstLosses += r.loss() / 50;
                }
                if (step > steps - 200) {
                    lastLosses += r.loss() / 200;
                }
            }
            assertThat(firstNorm).as("the gradients explode at the start").isGreaterThan(1e3);
            assertThat(w.getLoop().getClippedSteps()).isGreaterThan(steps / 2);
            assertThat(lastLosses).as("mean loss of the last 200 steps").isLessThan(firstLosses / 5)
                    .isLessThan(2 * CONSTANT_PREDICTOR_LOSS);
            RnnWorkload.Evaluation after = w.evaluate(2000);
            assertThat(after.loss()).as("loss on fresh sequences, against " + before.loss() + " before training")
                    .isLessThan(before.loss() / 5);
        }
    }
}
