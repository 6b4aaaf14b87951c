/**
 * Data-parallel training of DJL models with gradclip clipping on Apache Spark.
 *
 * <ul>
 *   <li>{@link dev.gradclip.spark.DataParallel}: one Spark job per step computes a batch's gradient
 *       over the partitions (each its contiguous shard) and sums the partitions' gradients on the
 *       driver in partition order, so the result is one process's gradient of the whole batch
 *       within float summation order, unchanged by retried tasks;</li>
 *   <li>{@link dev.gradclip.spark.SparkTrainer}: clips that gradient with any gradclip clipper and
 *       applies it with gradclip-core's optimizers on the driver; checkpoints with
 *       {@code CheckpointStore};</li>
 *   <li>{@link dev.gradclip.spark.ShardedGradients}: sharded mode, where tensors stay on their
 *       owners and the driver clips them by per-tensor measurements only (a job per read), with
 *       the single-machine result bit for bit, non-finite policy, value clipping and AGC included;</li>
 *   <li>{@link dev.gradclip.spark.BarrierNormExchange}: gradclip-core's
 *       {@code Clippers.sharded} in the tasks of a barrier stage, peer to peer;</li>
 *   <li>{@link dev.gradclip.spark.ShardModel} and {@link dev.gradclip.spark.ShardBatch}: the model
 *       every executor builds, and a batch as plain arrays;</li>
 *   <li>{@link dev.gradclip.spark.Spark}: a context started with gradclip's settings.</li>
 * </ul>
 * Spark ({@code spark-core_2.13}) is a provided dependency: the cluster or the application brings
 * it. Design, bound and measured cost: docs/spark.md.
 */
package dev.gradclip.spark;
