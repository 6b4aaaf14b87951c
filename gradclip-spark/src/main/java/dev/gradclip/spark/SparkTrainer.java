package dev.gradclip.spark;

import dev.gradclip.GradientSet;
import dev.gradclip.checkpoint.Checkpoint;
import dev.gradclip.optim.StepReport;
import dev.gradclip.optim.TrainingStep;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Data-parallel training with clipping on Spark: each step, {@link DataParallel} computes the
 * batch's gradient over the partitions, then the driver clips it with any gradclip clipper and
 * updates the parameters with a {@link TrainingStep} (core's optimizers), so a run is single-process
 * training on the whole batch, up to float summation order (see {@link DataParallel}).
 *
 * <pre>{@code
 * try (DataParallel exchange = DataParallel.of(sparkContext, model, 4)) {
 *     SparkTrainer trainer = new SparkTrainer(exchange, exchange.initialParameters(seed),
 *             TrainingStep.of(Clippers.globalNorm(1.0), Optimizers.sgd(0.1)));
 *     for (ShardBatch batch : batches) {
 *         SparkTrainer.Step s = trainer.step(batch);   // s.loss(), s.report().clip()
 *     }
 * }
 * }</pre>
 *
 * <p>The parameters and the optimizer's and clipper's state live on the driver: a failed task is
 * recomputed by Spark from the same inputs, and a run resumes from {@link #checkpoint()} exactly.
 */
public final class SparkTrainer {

    private final DataParallel exchange;
    private final float[][] parameters;
    private final TrainingStep update;
    private final List<String> names;
    private final List<long[]> shapes;
    private long steps;

    /**
     * @param exchange   computes each batch's gradient on Spark
     * @param parameters the starting parameters, in {@link DataParallel#names()} order (copied)
     * @param update     the clipper and optimizer
     * @throws IllegalArgumentException if the parameters do not match the model's
     */
    public SparkTrainer(DataParallel exchange, float[][] parameters, TrainingStep update) {
        this.exchange = Objects.requireNonNull(exchange, "exchange");
        this.update = Objects.requireNonNull(update, "update");
        this.names = exchange.names();
        this.shapes = exchange.shapes();
        if (parameters.length != names.size()) {
            throw new IllegalArgumentException("got " + parameters.length + " parameter tensors for a model with "
                    + names.size());
        }
        this.parameters = new float[parameters.length][];
        for (int t = 0; t < parameters.length; t++) {
            this.parameters[t] = parameters[t].clone();
        }
    }

    /**
     * One step's outcome.
     *
     * @param step   the step, from 0
     * @param loss   the batch's mean loss before the update
     * @param report what the clipper and optimizer did
     */
    public record Step(long step, double loss, StepReport report) {
    }

    /**
     * Trains one batch: gradient on Spark, clip and update on the driver.
     *
     * @param batch the batch
     * @return the loss and the report
     */
    public Step step(ShardBatch batch) {
        DataParallel.Gradient g = exchange.gradient(parameters, batch);
        StepReport r = update.update(gradientSet(g.gradients(), parameters, names, shapes));
        return new Step(steps++, g.loss(), r);
    }

    static GradientSet gradientSet(float[][] gradients, float[][] parameters, List<String> names, List<long[]> shapes) {
        GradientSet.Builder b = GradientSet.builder();
        for (int t = 0; t < gradients.length; t++) {
            b.add(names.get(t), gradients[t], parameters[t], shapes.get(t));
        }
        return b.build();
    }

    /** @return the current parameters (the live arrays: do not change them) */
    public float[][] parameters() {
        return parameters;
    }

    /** @return how many steps were trained, resumed ones included */
    public long steps() {
        return steps;
    }

    /**
     * The state after the last step, as a gradclip checkpoint: the parameters
     * ({@link Checkpoint#PARAMETERS}) and the clipper's and optimizer's state
     * ({@link Checkpoint#TRAINING_STATE}); save it with {@code CheckpointStore}.
     *
     * @return the checkpoint, at step {@link #steps()}
     */
    public Checkpoint checkpoint() {
        int bytes = 4;
        for (float[] p : parameters) {
            bytes += 4 + 4 * p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(bytes).putInt(parameters.length);
        for (float[] p : parameters) {
            b.putInt(p.length);
            b.asFloatBuffer().put(p);
            b.position(b.position() + 4 * p.length);
        }
        return Checkpoint.builder(steps).section(Checkpoint.PARAMETERS, b.array())
                .section(Checkpoint.TRAINING_STATE, update.saveState()).build();
    }

    /**
     * Continues from a checkpoint of a run with the same model, clipper and optimizer.
     *
     * @param checkpoint the checkpoint
     * @throws IllegalArgumentException if it does not match this run
     */
    public void restore(Checkpoint checkpoint) {
        ByteBuffer b = ByteBuffer.wrap(checkpoint.section(Checkpoint.PARAMETERS));
        if (b.getInt() != parameters.length) {
            throw new IllegalArgumentException("the checkpoint holds another number of parameter tensors");
        }
        float[][] values = new float[parameters.length][];
        for (int t = 0; t < values.length; t++) {
            int n = b.getInt();
            if (n != parameters[t].length) {
                throw new IllegalArgumentException("parameter " + names.get(t) + " has " + parameters[t].length
                        + " values, the checkpoint " + n);
            }
            values[t] = new float[n];
            b.asFloatBuffer().get(values[t]);
            b.position(b.position() + 4 * n);
        }
        update.restoreState(checkpoint.section(Checkpoint.TRAINING_STATE));
        for (int t = 0; t < values.length; t++) {
            System.arraycopy(values[t], 0, parameters[t], 0, values[t].length);
        }
        steps = checkpoint.step();
    }
}
