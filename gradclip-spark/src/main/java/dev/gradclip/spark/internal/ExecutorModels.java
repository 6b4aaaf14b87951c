package dev.gradclip.spark.internal;

import dev.gradclip.spark.ShardBatch;
import dev.gradclip.spark.ShardModel;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The replicas of each run in this JVM (an executor, or the driver in {@code local[N]}), built on an
 * executor's first task of the run and reused by every later step: building a DJL block costs far
 * more than a step of a small model. Concurrent tasks of one run each borrow their own replica.
 */
public final class ExecutorModels {

    private static final Map<String, Deque<Replica>> POOLS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * Computes a shard's gradient on a replica of {@code run}, building one if none is free.
     *
     * @param run    the run's key
     * @param model  the model, to build a replica
     * @param values the parameters
     * @param shard  the examples
     * @param index  the shard's index
     * @return the shard's gradient
     */
    public static ShardGradient gradient(String run, ShardModel model, float[][] values, ShardBatch shard, int index) {
        Deque<Replica> pool = POOLS.computeIfAbsent(run, k -> new ConcurrentLinkedDeque<>());
        Replica replica = pool.pollFirst();
        if (replica == null) {
            replica = new Replica(model);
        }
        try {
            return replica.gradient(values, shard, index);
        } finally {
            pool.offerFirst(replica);
        }
    }

    /**
     * Frees the replicas of {@code run} held by this JVM (executors of a cluster free theirs when
     * they exit).
     *
     * @param run the run's key
     */
    public static void release(String run) {
        Deque<Replica> pool = POOLS.remove(run);
        if (pool != null) {
            pool.forEach(Replica::close);
        }
    }
}
