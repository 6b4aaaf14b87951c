package dev.gradclip.cli.task;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.Trainer;
import dev.gradclip.Clipper;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.djl.ClippedTrainer;
import dev.gradclip.djl.DjlTrainingState;
import dev.gradclip.djl.StepResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.List;
import java.util.Map;

/**
 * The run of a task that trains on DJL's engine: each step is gradclip-djl's {@link ClippedTrainer}
 * step (forward and backward on one batch, the clipper on the gradients where they live, DJL's
 * optimizer unless the clipper says to skip), plus what the command records about it (per-layer
 * norms, the data state for checkpoints).
 */
abstract class DjlTaskRun implements TaskRun {

    /** The model. */
    protected final Model model;
    /** Its trainer (loss, optimizer, parameters). */
    protected final Trainer trainer;
    private final Clipper clipper;
    private final ClippedTrainer loop;
    private LayerNorms layerNorms;
    private byte[] dataBeforeStep;
    private boolean stepThrew;
    private Backward backward;

    /**
     * Computes a batch's gradients into the trainer's gradient arrays somewhere else than in this
     * process's forward and backward: on Spark's executors for {@code train --spark}.
     */
    interface Backward {
        /**
         * @param trainer the trainer whose parameters' gradients are written
         * @param data    the batch's inputs
         * @param labels  its labels
         * @return the batch's mean loss
         */
        double gradients(Trainer trainer, NDList data, NDList labels);
    }

    /**
     * Computes every later step's gradients with {@code other} instead of this process's forward and
     * backward; the clipper, the optimizer, checkpoints and evaluation stay here.
     *
     * @param other the gradient computation
     */
    void distribute(Backward other) {
        this.backward = other;
    }

    /**
     * @param model   the model, owned by this run from now on
     * @param trainer its trainer, initialised
     * @param clipper the clipper
     */
    DjlTaskRun(Model model, Trainer trainer, Clipper clipper) {
        this.model = model;
        this.trainer = trainer;
        this.clipper = clipper;
        this.loop = ClippedTrainer.of(trainer, clipper);
    }

    /**
     * Builds the inputs and labels of one training batch.
     *
     * @param manager the manager that owns the step's arrays
     * @param step    the step number, from 1
     * @return {@code {data, labels}}
     */
    protected abstract NDList[] batch(NDManager manager, long step);

    @Override
    public List<String> layers() {
        return layerNorms().layers();
    }

    private LayerNorms layerNorms() {
        if (layerNorms == null) {
            layerNorms = new LayerNorms(loop.gradients());
        }
        return layerNorms;
    }

    /**
     * The state of the batch stream (data order, random generators), for checkpoints. Tasks whose
     * batches depend on the step number alone keep the default, an empty state.
     *
     * @return the state
     */
    protected byte[] dataState() {
        return new byte[0];
    }

    /**
     * Restores a state returned by {@link #dataState()}.
     *
     * @param state the state
     * @throws IllegalArgumentException if it is not this task's
     */
    protected void restoreDataState(byte[] state) {
        if (state.length != 0) {
            throw new IllegalArgumentException("this task keeps no data state but the checkpoint holds "
                    + state.length + " bytes of it");
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The model's parameters and the DJL optimizer's state ({@link DjlTrainingState}), the
     * clipper's statistics and {@link #dataState()}; after a step that threw on a non-finite gradient,
     * the data state from before that step, since nothing else changed.
     */
    @Override
    public byte[] saveState() {
        byte[] parameters = DjlTrainingState.save(trainer);
        byte[] clip = clipper.saveState();
        byte[] data = stepThrew ? dataBeforeStep : dataState();
        return ByteBuffer.allocate(12 + parameters.length + clip.length + data.length)
                .putInt(parameters.length).put(parameters).putInt(clip.length).put(clip)
                .putInt(data.length).put(data).array();
    }

    @Override
    public void restoreState(byte[] state) {
        ByteBuffer in = ByteBuffer.wrap(state);
        byte[] parameters = section(in);
        byte[] clip = section(in);
        byte[] data = section(in);
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("task state has " + in.remaining() + " unexpected trailing bytes");
        }
        DjlTrainingState.restore(trainer, parameters);
        clipper.restoreState(clip);
        restoreDataState(data);
        stepThrew = false;
    }

    private static byte[] section(ByteBuffer in) {
        if (in.remaining() < 4) {
            throw new IllegalArgumentException("task state is truncated");
        }
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) {
            throw new IllegalArgumentException("task state is corrupt: a section of " + n + " bytes with "
                    + in.remaining() + " left");
        }
        byte[] out = new byte[n];
        in.get(out);
        return out;
    }

    /**
     * @param random a generator
     * @return its exact state (serialised), for {@link #dataState()}
     */
    protected static byte[] saveRandom(Random random) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(random);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * @param state bytes from {@link #saveRandom(Random)}
     * @return the generator, in the state it was saved in
     * @throws IllegalArgumentException if the bytes hold anything but a {@link Random} (nothing else
     *                                  is deserialised)
     */
    protected static Random restoreRandom(byte[] state) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(state))) {
            in.setObjectInputFilter(info -> info.serialClass() == null || info.serialClass() == Random.class
                    ? ObjectInputFilter.Status.ALLOWED : ObjectInputFilter.Status.REJECTED);
            return (Random) in.readObject();
        } catch (IOException | ClassNotFoundException | ClassCastException e) {
            throw new IllegalArgumentException("task state holds no random generator state: " + e.getMessage(), e);
        }
    }

    @Override
    public StepMetrics step(long step) {
        dataBeforeStep = dataState();
        stepThrew = false;
        try (NDManager m = trainer.getManager().newSubManager()) {
            NDList[] xy = batch(m, step);
            StepResult r;
            try {
                double loss = backward != null ? backward.gradients(trainer, xy[0], xy[1])
                        : loop.forwardBackward(xy[0], xy[1]);
                r = loop.update(loss, loop.clipGradients());
            } catch (NonFiniteGradientException e) {
                stepThrew = true;
                throw e;
            }
            return new StepMetrics(r.loss(), r.report(), layerNorms().of(r.report()), Map.of());
        }
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
