package dev.gradclip.cli.task;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dev.gradclip.Clipper;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.spark.DataParallel;
import dev.gradclip.spark.ShardBatch;
import dev.gradclip.spark.ShardModel;
import dev.gradclip.spark.Spark;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code train --spark MASTER}: a task whose every step's gradient is computed data-parallel on Spark
 * by gradclip-spark's {@link DataParallel} (the batch split into contiguous shards, one per partition,
 * their gradients summed on the driver in partition order), then clipped, applied, checkpointed and
 * evaluated here as in a local run, so the run writes the same files. The command's only class that
 * uses Spark (through gradclip-spark, so the command compiles without Spark's jars): it is loaded
 * only under {@code --spark}, when the launcher has put Spark's jars on the class path.
 */
public final class SparkTask implements Task, AutoCloseable {

    private final Task task;
    private final Spark spark;
    private final int partitions;
    private final List<DataParallel> exchanges = new ArrayList<>();

    private SparkTask(Task task, Spark spark, int partitions) {
        this.task = task;
        this.spark = spark;
        this.partitions = partitions;
    }

    /**
     * Starts a Spark context on {@code master} for {@code task}.
     *
     * @param task       the task
     * @param master     Spark's master URL: {@code local[2]}, {@code spark://host:7077}, ...
     * @param partitions how many shards a batch is split into, or {@code null} for Spark's default
     *                   parallelism (N for {@code local[N]})
     * @return the task, training on Spark; close it to stop the context
     * @throws UsageException if the task cannot train on Spark or {@code partitions < 1}
     */
    public static SparkTask open(Task task, String master, Integer partitions) {
        if (task.modelRecipe(TaskSettings.defaults(1, 1)) == null) {
            throw new UsageException("--spark: task " + task.name() + " cannot train on Spark; fashion-mnist can");
        }
        if (partitions != null && partitions < 1) {
            throw new UsageException("--partitions must be at least 1, got " + partitions);
        }
        Spark spark = Spark.start(master, "gradclip train " + task.name());
        return new SparkTask(task, spark, partitions != null ? partitions : spark.defaultParallelism());
    }

    /** @return how many shards each batch is split into */
    public int partitions() {
        return partitions;
    }

    @Override
    public String name() {
        return task.name();
    }

    @Override
    public String description() {
        return task.description();
    }

    @Override
    public TaskDefaults defaults() {
        return task.defaults();
    }

    @Override
    public void check(TaskSettings settings) {
        task.check(settings);
    }

    @Override
    public ModelRecipe modelRecipe(TaskSettings settings) {
        return task.modelRecipe(settings);
    }

    @Override
    public TaskRun start(TaskSettings settings, Clipper clipper, OptimizerSpec optimizer) {
        TaskRun run = task.start(settings, clipper, optimizer);
        if (!(run instanceof DjlTaskRun djl)) {
            run.close();
            throw new UsageException("--spark: task " + task.name() + " does not train on DJL");
        }
        DataParallel exchange = DataParallel.on(spark, new RecipeModel(task.modelRecipe(settings)), partitions);
        exchanges.add(exchange);
        djl.distribute(new SparkBackward(exchange));
        return run;
    }

    /** Frees the models and stops the Spark context. */
    @Override
    public void close() {
        exchanges.forEach(DataParallel::close);
        spark.close();
    }

    /** A {@link ModelRecipe} as gradclip-spark's {@link ShardModel}. */
    record RecipeModel(ModelRecipe recipe) implements ShardModel {
        @Override
        public Block newBlock() {
            return recipe.block().get();
        }

        @Override
        public Loss newLoss() {
            return recipe.loss().get();
        }

        @Override
        public Shape exampleShape() {
            return new Shape(recipe.exampleShape());
        }
    }

    /**
     * Reads the driver's parameters, has Spark compute the batch's gradient, and writes it into the
     * trainer's gradient arrays, where the clipper and DJL's optimizer find it.
     */
    private static final class SparkBackward implements DjlTaskRun.Backward {
        /** Every element of an array, for a copy into its own memory. */
        private static final NDIndex ALL = new NDIndex("...");

        private final DataParallel exchange;
        private boolean gradientsExist;

        SparkBackward(DataParallel exchange) {
            this.exchange = exchange;
        }

        @Override
        public double gradients(Trainer trainer, NDList data, NDList labels) {
            List<Parameter> parameters = new ArrayList<>(trainer.getModel().getBlock().getParameters().values());
            float[][] values = new float[parameters.size()][];
            for (int t = 0; t < values.length; t++) {
                values[t] = parameters.get(t).getArray().toFloatArray();
            }
            NDArray x = data.singletonOrThrow();
            NDArray y = labels.singletonOrThrow();
            DataParallel.Gradient g = exchange.gradient(values, new ShardBatch(x.toFloatArray(),
                    x.getShape().getShape(), y.toFloatArray(), y.getShape().getShape()));
            try (NDManager m = trainer.getManager().newSubManager()) {
                if (!gradientsExist) {
                    // PyTorch allocates a parameter's gradient at its first backward: one of zeros.
                    // The factor 0 is a native scalar: a Java number (mul(0)) would leave autograd a
                    // scalar over a Java buffer that a garbage collection may free (see GcSafeL2Loss)
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        NDArray factor = m.zeros(new Shape());
                        NDArray zero = null;
                        for (Parameter p : parameters) {
                            NDArray s = p.getArray().sum().mul(factor);
                            s.attach(m);
                            zero = zero == null ? s : zero.add(s);
                        }
                        collector.backward(zero);
                    }
                    gradientsExist = true;
                }
                for (int t = 0; t < values.length; t++) {
                    NDArray grad = parameters.get(t).getArray().getGradient();
                    grad.attach(m);
                    // copied into the gradient's own memory: NDArray.set(Buffer) would re-point the
                    // gradient at a Java buffer owned by this handle, freed after m closes while the
                    // clipper and the optimizer still read it
                    try (NDArray received = m.create(g.gradients()[t], grad.getShape())) {
                        grad.set(ALL, received);
                    }
                }
            }
            return g.loss();
        }
    }
}
