package dev.gradclip.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.Clippers;
import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.optim.Optimizers;
import dev.gradclip.optim.StepReport;
import dev.gradclip.optim.TrainingStep;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training on {@code local[2,3]} (two worker threads, a task may fail three times):
 * equal to single-process training within float summation order, unchanged by a retried task, and
 * resumed from a checkpoint as if never interrupted.
 */
class SparkTrainerTest {

    /**
     * The bound: after {@value #STEPS} steps of SGD at lr 0.1 with global-norm clipping, every
     * parameter differs from single-process training by at most this, relative to the tensor's
     * largest magnitude. One step's gradient differs by a few float ulps per element (summation
     * order); measured here: see the assertion's message.
     */
    static final double BOUND = 1e-5;
    static final int STEPS = 10;
    static final TinyMlp MODEL = new TinyMlp(20, 32, 4);

    static JavaSparkContext spark;

    @BeforeAll
    static void start() {
        spark = SharedSpark.context();
    }

    static TrainingStep update() {
        return TrainingStep.of(Clippers.globalNorm(0.5), Optimizers.sgd(0.1));
    }

    static float[][] initial(DataParallel exchange) {
        return exchange.initialParameters(7);
    }

    @Test
    void trainsAsOneProcessOnTheWholeBatchWithinFloatSummationOrder() {
        try (DataParallel exchange = DataParallel.of(spark, MODEL, 2)) {
            float[][] start = initial(exchange);
            SparkTrainer onSpark = new SparkTrainer(exchange, start, update());
            float[][] single = copy(start);
            TrainingStep singleUpdate = update();
            int clipped = 0;
            double worstGradient = 0;
            for (int s = 0; s < STEPS; s++) {
                ShardBatch batch = MODEL.batch(33, s); // 33: the shards differ in size (16 and 17)
                DataParallel.Gradient reference = exchange.localGradient(single, batch);
                DataParallel.Gradient distributed = exchange.gradient(onSpark.parameters(), batch);
                worstGradient = Math.max(worstGradient, relativeDifference(distributed.gradients(), reference.gradients()));
                StepReport r = singleUpdate.update(SparkTrainer.gradientSet(reference.gradients(), single,
                        exchange.names(), exchange.shapes()));
                SparkTrainer.Step step = onSpark.step(batch);
                assertThat(step.loss()).isCloseTo(reference.loss(), org.assertj.core.data.Offset.offset(1e-5 * reference.loss()));
                assertThat(step.report().clipped()).isEqualTo(r.clipped());
                clipped += r.clipped() ? 1 : 0;
            }
            double worst = relativeDifference(onSpark.parameters(), single);
            assertThat(clipped).as("steps clipped: the test must exercise the clipper").isGreaterThan(2);
            assertThat(worstGradient).as("one step's gradient, relative to each tensor's largest element")
                    .isLessThan(1e-6);
            assertThat(worst).as("parameters after %d steps (gradient worst %.2e)", STEPS, worstGradient)
                    .isLessThan(BOUND);
            System.out.printf("spark vs one process: gradient %.2e, parameters after %d steps %.2e%n",
                    worstGradient, STEPS, worst);
        }
    }

    static final AtomicInteger FAILURES = new AtomicInteger();

    @Test
    void aTaskThatFailsIsRetriedAndTheStepIsUnchanged() {
        ShardBatch batch = MODEL.batch(32, 1);
        try (DataParallel plain = DataParallel.of(spark, MODEL, 2);
                DataParallel faulty = new DataParallel(spark, MODEL, 2, (step, partition, attempt) -> {
                    if (partition == 1 && attempt == 0) {
                        FAILURES.incrementAndGet();
                        throw new IllegalStateException("injected: partition 1's first attempt fails");
                    }
                })) {
            float[][] params = initial(plain);
            DataParallel.Gradient expected = plain.gradient(params, batch);
            DataParallel.Gradient retried = faulty.gradient(params, batch);
            assertThat(FAILURES.get()).as("the fault fired").isEqualTo(1);
            assertThat(retried.gradients()).isDeepEqualTo(expected.gradients());
            assertThat(retried.loss()).isEqualTo(expected.loss());
        }
    }

    @Test
    void aTaskThatAlwaysFailsEndsTheStepWithSparksError() {
        try (DataParallel broken = new DataParallel(spark, MODEL, 2, (step, partition, attempt) -> {
            throw new IllegalStateException("injected: always fails");
        })) {
            float[][] params = initial(broken);
            assertThatThrownBy(() -> broken.gradient(params, MODEL.batch(8, 1)))
                    .hasMessageContaining("injected: always fails");
        }
    }

    @Test
    void resumesFromACheckpointAfterTheDriverDiesAsIfNeverInterrupted(@TempDir Path dir) throws Exception {
        int steps = 8;
        float[][] uninterrupted;
        try (DataParallel exchange = DataParallel.of(spark, MODEL, 2)) {
            SparkTrainer t = new SparkTrainer(exchange, initial(exchange), TrainingStep.of(
                    Clippers.zClip(), Optimizers.adam(1e-2)));
            for (int s = 0; s < steps; s++) {
                t.step(MODEL.batch(16, s));
            }
            uninterrupted = copy(t.parameters());
        }
        CheckpointStore store = CheckpointStore.in(dir);
        // the first driver checkpoints every 3 steps and dies during step 5
        try (DataParallel exchange = DataParallel.of(spark, MODEL, 2)) {
            SparkTrainer t = new SparkTrainer(exchange, initial(exchange), TrainingStep.of(
                    Clippers.zClip(), Optimizers.adam(1e-2)));
            for (int s = 0; s < 5; s++) {
                t.step(MODEL.batch(16, s));
                if (t.steps() % 3 == 0) {
                    store.save(t.checkpoint());
                }
            }
        }
        // a new driver: nothing of the first survives but the checkpoint files
        try (DataParallel exchange = DataParallel.of(spark, MODEL, 2)) {
            SparkTrainer t = new SparkTrainer(exchange, exchange.initialParameters(99), TrainingStep.of(Clippers.zClip(), Optimizers.adam(1e-2)));
            t.restore(store.loadLatest().orElseThrow().checkpoint());
            assertThat(t.steps()).isEqualTo(3);
            for (long s = t.steps(); s < steps; s++) {
                t.step(MODEL.batch(16, s));
            }
            // the driver's sum is in partition order, so resumed training is bit-identical
            assertThat(t.parameters()).isDeepEqualTo(uninterrupted);
        }
    }

    static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** The largest |a−b| over each tensor, relative to that tensor's largest |b|. */
    static double relativeDifference(float[][] a, float[][] b) {
        double worst = 0;
        for (int t = 0; t < a.length; t++) {
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a[t].length; i++) {
                scale = Math.max(scale, Math.abs(b[t][i]));
                diff = Math.max(diff, Math.abs(a[t][i] - b[t][i]));
            }
            worst = Math.max(worst, scale == 0 ? diff : diff / scale);
        }
        return worst;
    }
}
