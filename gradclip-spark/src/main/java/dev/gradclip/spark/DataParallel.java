package dev.gradclip.spark;

import dev.gradclip.spark.internal.ExecutorModels;
import dev.gradclip.spark.internal.Replica;
import dev.gradclip.spark.internal.ShardGradient;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * The gradient of one batch computed on Spark: one ordinary Spark job per step (the driver loop).
 *
 * <p>Each step the driver broadcasts the parameters, and partition {@code p} of {@code N} computes,
 * on its executor's cached replica of the model, the gradient {@code g_p} of the mean loss over its
 * contiguous shard of {@code n_p} examples ({@link ShardBatch#shard}). The driver collects the
 * {@code N} results and sums them in partition order, in double:
 * {@code g = Σ_p (n_p / B) · g_p}, rounded once to float. That is the gradient of the mean loss over
 * the whole batch of {@code B} examples, as one process computes it, up to float summation order: each
 * {@code g_p} is rounded to float by the engine (relative error about {@code 2^-24} per element and a
 * few more for libtorch's own reductions), so {@code g} differs from the single-process gradient by a
 * few float ulps per element. The sum is deterministic: neither the order in which tasks finish nor a
 * retried task changes it (a task is a pure function of the parameters and its shard).
 *
 * <p>Why a job per step: on Spark 4.2.0, barrier mode's {@code allGather} waits in one-second sleeps
 * (1.0 s per call, measured with {@code BarrierOverhead}), while an ordinary job costs tens of
 * milliseconds (see docs/spark.md).
 */
public final class DataParallel implements AutoCloseable {

    private final JavaSparkContext context;
    private final ShardModel model;
    private final int partitions;
    private final String run;
    private final TaskFault fault;
    private final Replica local;

    /**
     * A fault injected into the tasks, for tests of Spark's retries: called in every task before it
     * computes; throwing fails that attempt.
     */
    @FunctionalInterface
    interface TaskFault extends Serializable {
        /**
         * @param step      the step, from 0
         * @param partition the partition
         * @param attempt   Spark's attempt number of the task, from 0
         */
        void beforeTask(long step, int partition, int attempt);
    }

    private long step;

    DataParallel(JavaSparkContext context, ShardModel model, int partitions, TaskFault fault) {
        this.context = Objects.requireNonNull(context, "context");
        this.model = Objects.requireNonNull(model, "model");
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        this.partitions = partitions;
        this.fault = fault;
        this.run = "gradclip-" + UUID.randomUUID();
        this.local = new Replica(model);
    }

    /**
     * @param context    the Spark context
     * @param model      the model every partition builds
     * @param partitions how many partitions (shards) a batch is split into
     * @return the exchange
     * @throws IllegalArgumentException if {@code partitions < 1}
     */
    public static DataParallel of(JavaSparkContext context, ShardModel model, int partitions) {
        return new DataParallel(context, model, partitions, null);
    }

    /**
     * {@link #of} on a context started by {@link Spark#start}.
     *
     * @param spark      the running context
     * @param model      the model every partition builds
     * @param partitions how many partitions (shards) a batch is split into
     * @return the exchange
     * @throws IllegalArgumentException if {@code partitions < 1}
     */
    public static DataParallel on(Spark spark, ShardModel model, int partitions) {
        return of(spark.context(), model, partitions);
    }

    /** @return the parameter names of the model, in the order of every array exchanged */
    public List<String> names() {
        return local.names();
    }

    /** @return the parameter shapes, in the same order */
    public List<long[]> shapes() {
        return local.shapes();
    }

    /**
     * The parameters of a freshly initialised model, DJL's engine seeded with {@code seed} first: the
     * starting point to hand to {@link SparkTrainer}. Same seed, same values.
     *
     * @param seed the seed for {@code Engine.setRandomSeed}
     * @return the values
     */
    public float[][] initialParameters(long seed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        try (Replica fresh = new Replica(model)) {
            return fresh.parameterValues();
        }
    }

    /** @return how many partitions a batch is split into */
    public int partitions() {
        return partitions;
    }

    /**
     * The gradient and loss of {@code batch} at {@code parameters}: one Spark job.
     *
     * @param parameters the parameters, in {@link #names()} order (not changed)
     * @param batch      the batch; one with fewer examples than partitions uses one partition per
     *                   example
     * @return the mean-loss gradient over the whole batch and the mean loss
     */
    public Gradient gradient(float[][] parameters, ShardBatch batch) {
        Broadcast<float[][]> values = context.broadcast(parameters);
        List<ShardGradient> parts;
        try {
            parts = new ArrayList<>(shardGradients(values, batch).collect());
        } finally {
            values.destroy();
        }
        parts.sort(Comparator.comparingInt(ShardGradient::index));
        return sum(parts, batch.examples());
    }

    /**
     * The job's first stage: partition {@code p} of {@code min(N, B)} computes the gradient of its
     * contiguous shard on its executor's replica.
     */
    private JavaRDD<ShardGradient> shardGradients(Broadcast<float[][]> values, ShardBatch batch) {
        int n = Math.min(partitions, batch.examples());
        List<ShardBatch> shards = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            shards.add(batch.shard(i, n));
        }
        String key = run;
        ShardModel m = model;
        TaskFault f = fault;
        long s = step++;
        return context.parallelize(shards, n).mapPartitionsWithIndex((index, it) -> {
            if (f != null) {
                f.beforeTask(s, index, TaskContext.get().attemptNumber());
            }
            List<ShardGradient> out = new ArrayList<>(1);
            while (it.hasNext()) {
                out.add(ExecutorModels.gradient(key, m, values.value(), it.next(), index));
            }
            return out.iterator();
        }, true);
    }

    /**
     * The batch's gradient left on its owners (sharded mode): one Spark job whose partitions compute
     * their shards' gradients as {@link #gradient} does, then a shuffle that sends tensor {@code t}'s
     * contributions to partition {@code t mod N}, which sums them in partition order exactly as
     * {@link #gradient} sums on the driver. So {@code gradientSharded(p, b).gather()} equals
     * {@code gradient(p, b).gradients()} bit for bit, but no gradient passes through the driver. Each
     * owner also holds its tensors' parameter values (from the step's broadcast), for AGC.
     *
     * @param parameters the parameters, in {@link #names()} order (not changed)
     * @param batch      the batch
     * @return the gradient of the mean loss, each tensor held by its owner
     */
    public ShardedGradients gradientSharded(float[][] parameters, ShardBatch batch) {
        int n = Math.min(partitions, batch.examples());
        int examples = batch.examples();
        Broadcast<float[][]> values = context.broadcast(parameters);
        JavaRDD<ShardedGradients.Owned> owned = shardGradients(values, batch)
                .flatMapToPair(g -> {
                    List<Tuple2<Integer, ShardGradient>> out = new ArrayList<>();
                    for (int t = 0; t < g.gradients().length; t++) {
                        out.add(new Tuple2<>(t, new ShardGradient(g.index(), g.examples(), g.loss(),
                                new float[][] {g.gradients()[t]})));
                    }
                    return out.iterator();
                })
                .partitionBy(new ShardedGradients.OwnerPartitioner(n))
                .mapPartitions(it -> {
                    Map<Integer, List<ShardGradient>> byTensor = new TreeMap<>();
                    while (it.hasNext()) {
                        Tuple2<Integer, ShardGradient> e = it.next();
                        byTensor.computeIfAbsent(e._1(), t -> new ArrayList<>()).add(e._2());
                    }
                    List<ShardedGradients.Owned> out = new ArrayList<>();
                    for (Map.Entry<Integer, List<ShardGradient>> e : byTensor.entrySet()) {
                        List<ShardGradient> parts = e.getValue();
                        parts.sort(Comparator.comparingInt(ShardGradient::index));
                        out.add(new ShardedGradients.Owned(e.getKey(), sum(parts, examples).gradients()[0],
                                values.value()[e.getKey()]));
                    }
                    return out.iterator();
                }, true)
                .cache();
        owned.count();
        // the broadcast stays in the lineage: a lost owner's tensors are recomputed from it
        return new ShardedGradients(context, names(), shapes(), n, true, owned);
    }

    /**
     * Sums shard gradients in the order given, each weighted by its share of the examples, in double,
     * rounded once to float.
     */
    static Gradient sum(List<ShardGradient> parts, int examples) {
        float[][] first = parts.get(0).gradients();
        double[][] acc = new double[first.length][];
        for (int t = 0; t < first.length; t++) {
            acc[t] = new double[first[t].length];
        }
        double loss = 0;
        for (ShardGradient p : parts) {
            double w = (double) p.examples() / examples;
            loss += w * p.loss();
            for (int t = 0; t < acc.length; t++) {
                float[] g = p.gradients()[t];
                double[] a = acc[t];
                for (int i = 0; i < a.length; i++) {
                    a[i] += w * g[i];
                }
            }
        }
        float[][] out = new float[acc.length][];
        for (int t = 0; t < acc.length; t++) {
            out[t] = new float[acc[t].length];
            for (int i = 0; i < out[t].length; i++) {
                out[t][i] = (float) acc[t][i];
            }
        }
        return new Gradient(out, loss, examples);
    }

    /**
     * The same gradient computed in this JVM on the whole batch, without Spark: the single-process
     * reference that {@link #gradient} equals within float summation order.
     *
     * @param parameters the parameters
     * @param batch      the batch
     * @return the gradient and mean loss
     */
    public Gradient localGradient(float[][] parameters, ShardBatch batch) {
        ShardGradient g = local.gradient(parameters, batch, 0);
        return new Gradient(g.gradients(), g.loss(), g.examples());
    }

    /**
     * A batch's gradient.
     *
     * @param gradients the gradient of the mean loss, one array per parameter tensor
     * @param loss      the mean loss over the batch
     * @param examples  the batch's size
     */
    public record Gradient(float[][] gradients, double loss, int examples) {
    }

    /** Frees the replicas this JVM holds (the driver's, and in {@code local[N]} the executors'). */
    @Override
    public void close() {
        ExecutorModels.release(run);
        local.close();
    }
}
