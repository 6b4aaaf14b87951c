package dev.gradclip.lab.sequence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.djl.StepResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The product's core claim on the workload of lab-tasks.md, as a statistical claim over seeds: a
 * 50-unit tanh RNN on the adding problem (batch 20, every weight N(0, 0.3²), plain SGD at learning
 * rate 0.05; Pascanu et al. 2013, arXiv:1211.5063) explodes without clipping on most seeds, and with
 * global-norm clipping stays finite on every seed and learns the task on nearly every seed at
 * {@code T = 10}.
 *
 * <p>A single seed's trajectory is chaotic: libtorch's kernels (AVX-512, AVX2 or plain, chosen by
 * CPU) and the Vector API's width sum in other orders and the same seed ends elsewhere. So every claim
 * is a count over seeds with a margin below what was measured under each kernel setting:
 * {@code ATEN_CPU_CAPABILITY} unset (AVX-512), {@code avx2} and {@code default}, each with the JVM's
 * vectors at full width and limited by {@code -XX:MaxVectorSize=32} and {@code 16}. The measured
 * counts are in each test's comment, as "native" (AVX-512, full width, on an AMD EPYC) and "plain"
 * ({@code ATEN_CPU_CAPABILITY=default} with {@code -XX:MaxVectorSize=16}); {@code avx2} with 256-bit
 * vectors gave the native numbers on that machine. {@code .ci/run} runs this class again under the
 * plain setting.
 */
@Tag("training")
class ExplodingRnnTest {

    /** The lab's success criterion on the sequence tasks: at most this fraction of fresh sequences wrong. */
    private static final double LEARNED_ERROR = 0.05;

    private static RnnWorkload.Builder workload(int length, long seed) {
        return RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(length).optHiddenSize(50)
                .optBatchSize(20).optInit(RnnInit.normal(0.3)).optLearningRate(0.05f).optSeed(seed);
    }

    /** @return the step whose loss was NaN or infinite, or 0 if all {@code steps} stayed finite */
    private static int divergedAt(RnnWorkload w, int steps) {
        for (int step = 1; step <= steps; step++) {
            if (!Double.isFinite(w.trainBatch().loss())) {
                return step;
            }
        }
        return 0;
    }

    /** Names the per-seed measurements, and prints them so that a run under forced kernels shows them. */
    private static String describe(List<?> perSeed) {
        String text = "per seed 1..: " + perSeed;
        System.out.println("ExplodingRnnTest " + StackWalker.getInstance().walk(f -> f.skip(1).findFirst())
                .map(StackWalker.StackFrame::getMethodName).orElse("?") + " " + text);
        return text;
    }

    /**
     * Without clipping at T = 10, the loss is NaN or infinite within 400 steps on most seeds.
     * Measured on seeds 1–8: 6 of 8 native (steps 118–223), 5 of 8 plain.
     */
    @Test
    void atLengthTenUnclippedTrainingDivergesOnMostSeeds() {
        List<Integer> steps = new ArrayList<>();
        int diverged = 0;
        for (long seed = 1; seed <= 8; seed++) {
            try (RnnWorkload w = workload(10, seed).build()) {
                int at = divergedAt(w, 400);
                steps.add(at);
                diverged += at > 0 ? 1 : 0;
            }
        }
        assertThat(diverged).as("seeds whose unclipped loss became non-finite; " + describe(steps))
                .isGreaterThanOrEqualTo(4);
    }

    /**
     * With global-norm clipping at 0.1, the same runs stay finite on every seed and learn the task
     * (at most 5% of 2,000 fresh sequences wrong after 2,000 steps) on nearly every seed. Measured on
     * seeds 1–8: 7 of 8 learned, native and plain (0.25–2.7% wrong, and 5.6% on seed 5; the constant
     * predictor gets 36% wrong).
     */
    @Test
    void atLengthTenClippedTrainingStaysFiniteAndLearnsOnNearlyEverySeed() {
        List<String> errors = new ArrayList<>();
        int learned = 0;
        for (long seed = 1; seed <= 8; seed++) {
            try (RnnWorkload w = workload(10, seed).optClipper(Clippers.globalNorm(0.1)).build()) {
                assertThat(divergedAt(w, 2000)).as("clipped, seed " + seed + ": the step whose loss is non-finite")
                        .isZero();
                double error = w.evaluate(2000).errorRate();
                errors.add(String.format(Locale.ROOT, "%.4f", error));
                learned += error <= LEARNED_ERROR ? 1 : 0;
            }
        }
        assertThat(learned).as("seeds that learned the task; error rates " + describe(errors))
                .isGreaterThanOrEqualTo(6);
    }

    /**
     * At T = 50 the first gradient norm is above 1e3 on most seeds, and without clipping the loss
     * becomes non-finite within 1,000 steps on some seeds. Measured on seeds 1–8: first norms 1.1e3 to
     * 4.1e4 on 7 of 8 (11.9 on seed 7), native and plain; non-finite at steps 99–116 on 5 of 8 native
     * and 4 of 8 plain.
     */
    @Test
    void atLengthFiftyTheGradientsExplodeAndUnclippedTrainingBlowsUp() {
        List<String> seen = new ArrayList<>();
        int exploded = 0;
        int diverged = 0;
        for (long seed = 1; seed <= 8; seed++) {
            try (RnnWorkload w = workload(50, seed).build()) {
                StepResult first = w.trainBatch();
                double norm = first.report().normBefore();
                int at = Double.isFinite(first.loss()) ? divergedAt(w, 999) : 0;
                seen.add(String.format(Locale.ROOT, "norm %.3g, non-finite at %d", norm, at == 0 ? 0 : at + 1));
                exploded += norm > 1e3 ? 1 : 0;
                diverged += at > 0 ? 1 : 0;
            }
        }
        String text = describe(seen);
        assertThat(exploded).as("seeds whose first gradient norm is above 1e3; " + text)
                .isGreaterThanOrEqualTo(MIN_T50_EXPLODED);
        assertThat(diverged).as("seeds whose unclipped loss became non-finite; " + text)
                .isGreaterThanOrEqualTo(MIN_T50_DIVERGED);
    }

    /**
     * At T = 50, global-norm clipping at 1.0 keeps every seed finite although the first gradient
     * norms are above 1e3, and the loss on fresh sequences falls below a fifth of its start on most
     * seeds. The network does not learn the task at this length within a test's budget (see
     * docs/lab.md); the claim here is stability. Measured on seeds 1–5: the loss fell below a fifth
     * on 5 of 5 native and 4 of 5 plain (seed 2 from 1.26 to 0.75).
     */
    @Test
    void atLengthFiftyClippedTrainingStaysFiniteAndItsLossFalls() {
        Clipper clipper = Clippers.globalNorm(1.0);
        List<String> ratios = new ArrayList<>();
        int fell = 0;
        for (long seed = 1; seed <= 5; seed++) {
            try (RnnWorkload w = workload(50, seed).optClipper(clipper).build()) {
                double before = w.evaluate(1000).loss();
                assertThat(divergedAt(w, 800)).as("seed " + seed + ": the step whose loss is non-finite").isZero();
                double after = w.evaluate(1000).loss();
                ratios.add(String.format(Locale.ROOT, "%.3f->%.4f", before, after));
                fell += after < before / 5 ? 1 : 0;
            }
        }
        assertThat(fell).as("seeds whose fresh-sequence loss fell below a fifth of its start; " + describe(ratios))
                .isGreaterThanOrEqualTo(3);
    }

    /** The fewest seeds of 1–8 whose unclipped T = 50 run must reach a non-finite loss. */
    private static final int MIN_T50_DIVERGED = 3;
    /** The fewest seeds of 1–8 whose first T = 50 gradient norm must be above 1e3. */
    private static final int MIN_T50_EXPLODED = 6;
}
