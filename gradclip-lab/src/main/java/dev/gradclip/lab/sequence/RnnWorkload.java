package dev.gradclip.lab.sequence;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.RNN;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.djl.ClippedTrainer;
import dev.gradclip.djl.DjlGradients;
import dev.gradclip.djl.DjlTrainingState;
import dev.gradclip.djl.GcSafeL2Loss;
import dev.gradclip.djl.StepResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A 50-unit tanh RNN on a Pascanu et al. 2013 sequence task (arXiv:1211.5063), built on DJL and
 * trained step by step: the workload of the product's demonstration, the CLI's sequence tasks and
 * the overhead benchmark.
 *
 * <p>Model: {@code h_t = tanh(W_ih·u_t + b_ih + W_hh·h_{t−1} + b_hh)}, {@code h_0 = 0}, DJL's fused
 * {@link RNN} block (PyTorch's {@code rnn_tanh}; its two biases sum to the paper's {@code b_h}); the
 * output is a {@link Linear} layer on the last state {@code h_T}. Loss: DJL's {@code L2Loss}, i.e.
 * half the batch-mean squared error (adding, multiplication; the constant predictor 0.5 scores
 * 1/48 ≈ 0.0208 on adding), or softmax cross-entropy (temporal order; chance is ln 4 ≈ 1.386).
 *
 * <p>Reproducible: the initial weights ({@link RnnInit}) and every batch come from
 * {@link Random}s derived from the seed, batch {@code i} from {@code (seed, i)} alone, so the same
 * seed gives the same data and the same initial model, and a run resumed at step {@code k} can draw
 * the same batches from {@link #batch(long)}.
 *
 * <pre>{@code
 * try (RnnWorkload w = RnnWorkload.builder()
 *         .setTask(SequenceTask.ADDING)
 *         .optInit(RnnInit.normal(0.3))
 *         .optLearningRate(0.05f)
 *         .optClipper(Clippers.globalNorm(1.0))
 *         .build()) {
 *     for (int i = 0; i < 1000; i++) {
 *         StepResult r = w.trainBatch();
 *     }
 *     double errorRate = w.evaluate(10_000).errorRate();
 * }
 * }</pre>
 *
 * <p>Every step goes through gradclip-djl's {@link ClippedTrainer}. For measurements a step can also
 * be driven in its parts: {@link #forwardBackward(SequenceBatch)}, {@link #clipGradients()},
 * {@link #update(double, ClipReport)}.
 */
public final class RnnWorkload implements AutoCloseable {

    private static final long EVALUATION_SALT = 0x5DEECE66DL;

    private final SequenceTask task;
    private final int length;
    private final int hiddenSize;
    private final int batchSize;
    private final long seed;
    private final RnnInit init;
    private final Model model;
    private final Trainer trainer;
    private final ClippedTrainer loop;
    private NDManager stepManager;
    private long nextBatch;

    private RnnWorkload(Builder b) {
        this.task = b.task;
        this.length = b.length;
        this.hiddenSize = b.hiddenSize;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.init = b.init;
        Block block = buildBlock(task, hiddenSize);
        Model m = Model.newInstance("rnn-" + task.id(), b.device);
        try {
            m.setBlock(block);
            Optimizer optimizer = b.optimizer != null ? b.optimizer
                    : Optimizer.sgd().setLearningRateTracker(Tracker.fixed(b.learningRate)).build();
            Loss loss = task.isClassification() ? Loss.softmaxCrossEntropyLoss() : new GcSafeL2Loss();
            DefaultTrainingConfig config = new DefaultTrainingConfig(loss).optOptimizer(optimizer)
                    .optDevices(new Device[] {b.device});
            Trainer t = m.newTrainer(config);
            try {
                t.initialize(new Shape(batchSize, length, task.inputChannels()));
                initialise(block, new Random(mix(seed, -1)));
                this.loop = ClippedTrainer.builder().setTrainer(t).setClipper(b.clipper)
                        .optReportConsumer(b.reportConsumer).optBeforeClip(b.beforeClip).build();
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
            this.trainer = t;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        this.model = m;
    }

    /** @return a builder; {@link Builder#setTask} is required */
    public static Builder builder() {
        return new Builder();
    }

    private static Block buildBlock(SequenceTask task, int hidden) {
        SequentialBlock net = new SequentialBlock();
        net.add(RNN.builder().setStateSize(hidden).setNumLayers(1).setActivation(RNN.Activation.TANH)
                .optBatchFirst(true).optReturnState(false).build());
        // the prediction reads the last state h_T only
        net.add(new LambdaBlock(x -> new NDList(x.singletonOrThrow().get(":, -1, :")), "last_state"));
        net.add(Linear.builder().setUnits(task.outputs()).build());
        return net;
    }

    /** Overwrites DJL's initial values with the chosen initialisation, drawn from {@code random}. */
    private void initialise(Block block, Random random) {
        int inputs = task.inputChannels();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray array = p.getValue().getArray();
            String name = p.getKey();
            Shape s = array.getShape();
            float[] values;
            if (p.getValue().getType() == Parameter.Type.BIAS) {
                values = new float[(int) s.size()];
            } else if (name.contains("h2h")) {
                values = init.recurrent(hiddenSize, random);
            } else if (name.contains("i2h")) {
                values = init.dense(hiddenSize, inputs, random);
            } else {
                values = init.dense((int) s.get(0), (int) s.get(1), random);
            }
            array.set(values);
        }
    }

    /** A per-(seed, index) seed: distinct streams for distinct batches, reproducible alone. */
    private static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The training batch number {@code index}, a function of the seed and the index alone.
     *
     * @param index the batch number, ≥ 0
     * @return the batch
     */
    public SequenceBatch batch(long index) {
        return task.generate(batchSize, length, new Random(mix(seed, index)));
    }

    /**
     * Trains on the next batch of the seeded stream: forward, backward, clip, update (or skip).
     *
     * @return the step's loss and clip report
     * @throws dev.gradclip.NonFiniteGradientException under the {@code THROW} policy when a gradient
     *                                                 holds NaN or an infinity
     */
    public StepResult trainBatch() {
        return trainBatch(batch(nextBatch++));
    }

    /**
     * Trains on a given batch: forward, backward, clip, update (or skip).
     *
     * @param batch the batch
     * @return the step's loss and clip report
     * @throws dev.gradclip.NonFiniteGradientException under the {@code THROW} policy when a gradient
     *                                                 holds NaN or an infinity
     */
    public StepResult trainBatch(SequenceBatch batch) {
        releaseStep();
        try (NDManager m = trainer.getManager().newSubManager()) {
            NDList[] xy = arrays(m, batch);
            return loop.trainBatch(xy[0], xy[1]);
        }
    }

    private NDList[] arrays(NDManager m, SequenceBatch batch) {
        NDArray x = m.create(batch.inputs(), new Shape(batch.batchSize(), batch.length(), batch.channels()));
        NDArray y = task.isClassification() ? m.create(batch.targets(), new Shape(batch.batchSize()))
                : m.create(batch.targets(), new Shape(batch.batchSize(), 1));
        return new NDList[] {new NDList(x), new NDList(y)};
    }

    /**
     * The first part of a step driven in parts (to time each part): forward and backward through the
     * workload's {@link ClippedTrainer}, leaving the gradients in place. Follow it with
     * {@link #clipGradients()} (or a clipper of your own on {@link #gradients()}) and
     * {@link #update(double, ClipReport)}.
     *
     * @param batch the batch
     * @return the loss
     */
    public double forwardBackward(SequenceBatch batch) {
        releaseStep();
        stepManager = trainer.getManager().newSubManager();
        NDList[] xy = arrays(stepManager, batch);
        return loop.forwardBackward(xy[0], xy[1]);
    }

    /**
     * The view of the current gradients of every parameter, the one the workload's clipper sees.
     * The same view serves every step; it is closed after each clip.
     *
     * @return the view
     */
    public DjlGradients gradients() {
        return loop.gradients();
    }

    /**
     * The second part of a step driven in parts: the workload's clipper, through
     * {@link ClippedTrainer#clipGradients()} (a skipped step's gradients are cleared).
     *
     * @return the report
     * @throws dev.gradclip.NonFiniteGradientException under the {@code THROW} policy when a gradient
     *                                                 holds NaN or an infinity
     */
    public ClipReport clipGradients() {
        return loop.clipGradients();
    }

    /**
     * The last part of a step driven in parts: the optimizer's update, unless the report says skip
     * ({@link ClippedTrainer#update(double, ClipReport)}); then the step's arrays are freed.
     *
     * @param loss   the loss {@link #forwardBackward} returned
     * @param report the step's clip report
     * @return the step's result
     */
    public StepResult update(double loss, ClipReport report) {
        try {
            return loop.update(loss, report);
        } finally {
            releaseStep();
        }
    }

    private void releaseStep() {
        loop.gradients().close();
        if (stepManager != null) {
            stepManager.close();
            stepManager = null;
        }
    }

    /**
     * The loss and error rate on fresh sequences (a stream separate from training), without updating.
     * A regression sample is wrong when its squared error exceeds
     * {@value SequenceTask#WRONG_SQUARED_ERROR}; a classification sample when the largest output is
     * not its class (the paper's success criterion is fewer than 1% wrong on 10,000 sequences).
     *
     * @param sequences how many sequences, ≥ 1
     * @return the evaluation
     * @throws IllegalArgumentException if {@code sequences < 1}
     */
    public Evaluation evaluate(int sequences) {
        if (sequences < 1) {
            throw new IllegalArgumentException("sequences must be >= 1, got " + sequences);
        }
        releaseStep();
        Random random = new Random(mix(seed ^ EVALUATION_SALT, 0));
        long wrong = 0;
        double lossSum = 0;
        int done = 0;
        int chunk = 500;
        while (done < sequences) {
            int n = Math.min(chunk, sequences - done);
            SequenceBatch b = task.generate(n, length, random);
            try (NDManager m = trainer.getManager().newSubManager()) {
                NDList[] xy = arrays(m, b);
                NDList preds = trainer.evaluate(xy[0]);
                lossSum += trainer.getLoss().evaluate(xy[1], preds).toType(DataType.FLOAT64, false).getDouble() * n;
                float[] out = preds.singletonOrThrow().toFloatArray();
                for (int s = 0; s < n; s++) {
                    wrong += isWrong(out, s, b.targets()[s]) ? 1 : 0;
                }
            }
            done += n;
        }
        return new Evaluation(lossSum / sequences, (double) wrong / sequences, sequences);
    }

    private boolean isWrong(float[] out, int s, float target) {
        if (!task.isClassification()) {
            double e = out[s] - target;
            return !(e * e <= SequenceTask.WRONG_SQUARED_ERROR);
        }
        int k = task.outputs();
        int best = 0;
        for (int c = 1; c < k; c++) {
            if (out[s * k + c] > out[s * k + best]) {
                best = c;
            }
        }
        return Float.isNaN(out[s * k + best]) || best != (int) target;
    }

    /**
     * An evaluation on fresh sequences.
     *
     * @param loss      the mean loss (the training loss function)
     * @param errorRate the fraction of sequences wrong
     * @param sequences how many sequences were evaluated
     */
    public record Evaluation(double loss, double errorRate, int sequences) {
    }

    /** @return the task */
    public SequenceTask getTask() {
        return task;
    }

    /** @return the number of steps trained so far */
    public long getSteps() {
        return loop.getSteps();
    }

    /** @return the training loop (clip counters, last report) */
    public ClippedTrainer getLoop() {
        return loop;
    }

    /** @return the DJL trainer */
    public Trainer getTrainer() {
        return trainer;
    }

    /** @return the DJL model */
    public Model getModel() {
        return model;
    }

    /** @return the latest clip report, or {@code null} */
    public ClipReport getLastReport() {
        return loop.getLastReport();
    }

    /** @return the DJL names of the trainable parameters, in the order of the reports' tensor norms */
    public List<String> parameterNames() {
        DjlGradients g = gradients();
        List<String> names = new ArrayList<>(g.tensorCount());
        for (int t = 0; t < g.tensorCount(); t++) {
            names.add(g.name(t));
        }
        return names;
    }

    /** @return the names of the output layer's parameters (AGC's paper excludes the final layer) */
    public List<String> outputParameterNames() {
        DjlGradients g = gradients();
        List<String> names = new ArrayList<>();
        String last = g.group(g.tensorCount() - 1);
        for (int t = 0; t < g.tensorCount(); t++) {
            if (g.group(t).equals(last)) {
                names.add(g.name(t));
            }
        }
        return names;
    }

    /**
     * Saves what this workload needs to continue bit for bit (for checkpoints): the parameters and the
     * optimizer's state ({@link DjlTrainingState}), the clipper's statistics and the position in the
     * batch stream. The {@link ClippedTrainer}'s diagnostic counters are not part of it.
     *
     * @return the state
     */
    public byte[] saveState() {
        releaseStep();
        byte[] training = DjlTrainingState.save(trainer);
        byte[] clip = loop.getClipper().saveState();
        return java.nio.ByteBuffer.allocate(8 + 4 + training.length + 4 + clip.length)
                .putLong(nextBatch).putInt(training.length).put(training).putInt(clip.length).put(clip).array();
    }

    /**
     * Restores a state saved by {@link #saveState()} of a workload built with the same settings.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if the state is corrupt or belongs to other settings
     */
    public void restoreState(byte[] state) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(Objects.requireNonNull(state, "state"));
        if (state.length < 16) {
            throw new IllegalArgumentException("RNN workload state is truncated (" + state.length + " bytes)");
        }
        long batchIndex = in.getLong();
        int n = in.getInt();
        if (batchIndex < 0 || n < 0 || n > in.remaining() - 4) {
            throw new IllegalArgumentException("RNN workload state is corrupt");
        }
        byte[] training = new byte[n];
        in.get(training);
        int m = in.getInt();
        if (m < 0 || m != in.remaining()) {
            throw new IllegalArgumentException("RNN workload state is corrupt");
        }
        byte[] clip = new byte[m];
        in.get(clip);
        releaseStep();
        DjlTrainingState.restore(trainer, training);
        // a stateless clipper (the unclipped default too) refuses statistics saved by another
        loop.getClipper().restoreState(clip);
        nextBatch = batchIndex;
    }

    /** Closes the trainer and the model, releasing their native memory. */
    @Override
    public void close() {
        releaseStep();
        trainer.close();
        model.close();
    }

    @Override
    public String toString() {
        return "RnnWorkload[" + task.id() + ", T=" + length + ", hidden=" + hiddenSize + ", batch=" + batchSize
                + ", init=" + init + ", seed=" + seed + "]";
    }

    /** Builds an {@link RnnWorkload}; {@code setX} settings are required, {@code optX} optional. */
    public static final class Builder {
        private SequenceTask task;
        private int length = 50;
        private int hiddenSize = 50;
        private int batchSize = 20;
        private long seed = 1;
        private RnnInit init = RnnInit.normal(0.1);
        private float learningRate = 0.01f;
        private Optimizer optimizer;
        /** Unclipped unless set: measures and reports, and lets NaN through as an unclipped loop would. */
        private Clipper clipper = Clippers.none().withNonFinitePolicy(NonFinitePolicy.PROPAGATE);
        private Consumer<ClipReport> reportConsumer;
        private Consumer<DjlGradients> beforeClip;
        private Device device = Device.cpu();

        private Builder() {
        }

        /**
         * @param task the sequence task (required)
         * @return this builder
         */
        public Builder setTask(SequenceTask task) {
            this.task = Objects.requireNonNull(task, "task");
            return this;
        }

        /**
         * @param length the nominal sequence length T, ≥ 2 (default 50)
         * @return this builder
         * @throws IllegalArgumentException if {@code length < 2}
         */
        public Builder optLength(int length) {
            if (length < 2) {
                throw new IllegalArgumentException("length must be >= 2, got " + length);
            }
            this.length = length;
            return this;
        }

        /**
         * @param hiddenSize the number of hidden units, ≥ 1 (default 50)
         * @return this builder
         * @throws IllegalArgumentException if {@code hiddenSize < 1}
         */
        public Builder optHiddenSize(int hiddenSize) {
            if (hiddenSize < 1) {
                throw new IllegalArgumentException("hiddenSize must be >= 1, got " + hiddenSize);
            }
            this.hiddenSize = hiddenSize;
            return this;
        }

        /**
         * @param batchSize sequences per batch, ≥ 1 (default 20)
         * @return this builder
         * @throws IllegalArgumentException if {@code batchSize < 1}
         */
        public Builder optBatchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * @param seed the seed of the initial weights and of the data (default 1)
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param init the initialisation (default {@code normal(0.1)}, the paper's "basic tanh")
         * @return this builder
         */
        public Builder optInit(RnnInit init) {
            this.init = Objects.requireNonNull(init, "init");
            return this;
        }

        /**
         * @param learningRate the learning rate of the default optimizer, plain SGD (default 0.01, the
         *                     paper's); ignored when {@link #optOptimizer} is given
         * @return this builder
         * @throws IllegalArgumentException if not finite and positive
         */
        public Builder optLearningRate(float learningRate) {
            if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
                throw new IllegalArgumentException("learningRate must be finite and positive, got " + learningRate);
            }
            this.learningRate = learningRate;
            return this;
        }

        /**
         * @param optimizer a DJL optimizer instead of plain SGD
         * @return this builder
         */
        public Builder optOptimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /**
         * @param clipper the clipper applied every step; the default, {@code Clippers.none()} with
         *                {@link NonFinitePolicy#PROPAGATE}, trains unclipped (the baseline of the lab's
         *                comparisons): it measures and reports every step, never clips, and lets NaN
         *                and infinite gradients reach the update
         * @return this builder
         * @throws NullPointerException if {@code clipper} is null; pass the default above explicitly
         *                              to train unclipped
         */
        public Builder optClipper(Clipper clipper) {
            this.clipper = Objects.requireNonNull(clipper, "clipper (use"
                    + " Clippers.none().withNonFinitePolicy(NonFinitePolicy.PROPAGATE) to train unclipped)");
            return this;
        }

        /**
         * @param consumer receives every step's clip report
         * @return this builder
         */
        public Builder optReportConsumer(Consumer<ClipReport> consumer) {
            this.reportConsumer = consumer;
            return this;
        }

        /**
         * @param hook runs on the raw gradients before clipping (fault injection, inspection)
         * @return this builder
         */
        public Builder optBeforeClip(Consumer<DjlGradients> hook) {
            this.beforeClip = hook;
            return this;
        }

        /**
         * @param device the device to train on (default the CPU)
         * @return this builder
         */
        public Builder optDevice(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /**
         * @return the workload, with its model initialised
         * @throws IllegalArgumentException if no task was set
         */
        public RnnWorkload build() {
            if (task == null) {
                throw new IllegalArgumentException("task is required: call setTask(SequenceTask)");
            }
            return new RnnWorkload(this);
        }
    }
}
