package dev.gradclip.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.listener.TrainingListener.BatchData;
import ai.djl.translate.TranslateException;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.djl.internal.TrainerParameters;
import dev.gradclip.internal.DeferredScaling;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A training loop that clips between backward and the update, and can truly skip a step, which
 * DJL's {@code EasyTrain} cannot (it always calls {@code trainer.step()}).
 *
 * <p>One step, as {@link ai.djl.training.EasyTrain#trainBatch} but with the update under gradclip's
 * control:
 * <ol>
 *   <li>forward and backward on every split of the batch (the trainer's devices);</li>
 *   <li>the trainer's listeners' {@code onTrainingBatch} (evaluators, loss tracking, logging);</li>
 *   <li>the clipper on {@link DjlGradients#of(Trainer)} (sums over device copies);</li>
 *   <li>if the report says skip (non-finite gradients under {@code SKIP}, a spike guard): the
 *       gradients are set to zero and {@code trainer.step()} is <em>not</em> called, so the
 *       parameters, the optimizer's state and its update counter stay exactly as they were and
 *       nothing leaks into the next step; otherwise {@code trainer.step()}.</li>
 * </ol>
 * Each step's {@link ClipReport} is returned in a {@link StepResult}, passed to the report consumer
 * and, when the trainer has {@link ai.djl.metric.Metrics}, recorded by {@link ClipMetrics}.
 *
 * <p>This is the one place where gradclip writes a DJL training step: {@link GradientClipListener}
 * runs its clipping part, and the workloads of the {@code gradclip} command and of the benchmarks
 * train through it. To time or inspect the parts, drive a step as
 * {@link #forwardBackward(NDList, NDList)}, {@link #clipGradients()} and
 * {@link #update(double, ClipReport)}.
 *
 * <pre>{@code
 * ClippedTrainer loop = ClippedTrainer.builder()
 *         .setTrainer(trainer)
 *         .setClipper(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP))
 *         .build();
 * for (Batch batch : trainer.iterateDataset(dataset)) {
 *     StepResult r = loop.trainBatch(batch); // r.loss(), r.report(), r.skipped()
 *     batch.close();
 * }
 * }</pre>
 * (This example is compiled and run by {@code JavadocSnippetsTest} in this module's tests, which
 * holds the same text and fails when the two differ.)
 *
 * <p>The clipper is required: a loop built without one would train unclipped without a word. To
 * train unclipped on purpose (a baseline), pass {@link dev.gradclip.Clippers#none()}, which measures
 * and reports but never clips; with {@link dev.gradclip.NonFinitePolicy#PROPAGATE} it also lets NaN
 * and infinite gradients reach the update, as a loop without clipping would.
 *
 * <p><b>Folded scaling.</b> When the trainer's optimizer implements {@link GradientScaleFolding}
 * ({@link DjlNesterov}, {@link DjlRmsProp}), the factor {@code k} a clipper multiplies a tensor by
 * (the coefficient of global-norm, AutoClip, ZClip, scheduled and spike-guarded clipping, and the
 * per-tensor and per-group factors of norm clipping) is not written into the gradient: it is handed
 * to the optimizer, which multiplies by it where it applies its rescale factor {@code r}, so the
 * update uses {@code clamp(r·(k·g), −c, c) + λ·θ}. The multiplication moves from the gradient arrays
 * into the update's own temporary (with {@code r = 1}, DJL's default, it takes the place of the
 * rescale multiplication): one multiplication per element either way, but the gradients are not
 * rewritten. On one device the parameters, the optimizer's state, the report, the metrics, the
 * counters and the clipper's statistics are bit for bit those of scaling in place and then stepping;
 * with gradient copies on several devices the factor multiplies the sum DJL's parameter server hands
 * the optimizer rather than each copy, equal up to the rounding of that sum.
 *
 * <p>What differs is what the gradient arrays hold: between {@link #clipGradients()} and the update,
 * the raw gradients, not the clipped ones (for a global clip, the clipped gradient is
 * {@code report.coefficient()} times them). Anything else a clipper writes (value clamping, AGC's
 * per-unit factors, zeroed non-finite entries under {@code ZERO}, factors outside the normal float
 * range) is written in place before the update, as before, any pending factor of the tensor being
 * written first so that the edit sees what it would have seen. With an optimizer that does not fold
 * (DJL's native {@code Optimizer.sgd()}, {@code adam()}, {@code adamW()}), or with
 * {@link Builder#optGradientScaleFolding(boolean) optGradientScaleFolding(false)}, the gradients are
 * scaled in place and then {@code trainer.step()} reads them, exactly as before folding existed.
 *
 * <p>Do not also add a {@link GradientClipListener} to the same trainer: the gradients would be
 * clipped twice.
 */
public final class ClippedTrainer {

    private final Trainer trainer;
    private final Clipper clipper;
    private final String metricsPrefix;
    private final Consumer<ClipReport> reportConsumer;
    private final Consumer<DjlGradients> beforeClip;
    private final boolean folding;
    /** The optimizer the factors are folded into, once looked up; null when the scaling is in place. */
    private GradientScaleFolding foldingOptimizer;
    private boolean optimizerLookedUp;
    /** Per tensor of {@link #gradients()}, the DJL id of its parameter (the optimizer's key). */
    private String[] parameterIds;
    private long step;
    private long skippedSteps;
    private long clippedSteps;
    private ClipReport lastReport;
    private DjlGradients gradients;

    private ClippedTrainer(Builder b) {
        this.trainer = b.trainer;
        this.clipper = b.clipper;
        this.metricsPrefix = b.metricsPrefix;
        this.reportConsumer = b.reportConsumer;
        this.beforeClip = b.beforeClip;
        this.folding = b.folding;
    }

    /** @return a builder; {@link Builder#setTrainer} and {@link Builder#setClipper} are required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A loop training {@code trainer} with {@code clipper}, in one line:
     * {@code ClippedTrainer.of(trainer, Clippers.globalNorm(1.0)).fit(epochs, trainSet, null)}.
     *
     * <p>Each step runs forward and backward, then the clipper on the gradients of all the trainer's
     * parameters (for {@code Clippers.globalNorm(c)}: every gradient multiplied by {@code c/n} when
     * their global L2 norm {@code n = sqrt(Σ g²)} exceeds {@code c}), then {@code trainer.step()};
     * when the clipper's report says skip (non-finite gradients under
     * {@link dev.gradclip.NonFinitePolicy#SKIP}, a spike guard), the update is not made at all and the
     * gradients are set to zero. Same as
     * {@code builder().setTrainer(trainer).setClipper(clipper).build()}: reports are recorded as DJL
     * metrics under the prefix {@value ClipMetrics#DEFAULT_PREFIX} when the trainer has metrics.
     *
     * @param trainer the trainer whose model is trained
     * @param clipper the clipper; {@link dev.gradclip.Clippers#none()} measures and reports without
     *                clipping
     * @return the loop
     * @throws NullPointerException if {@code trainer} or {@code clipper} is null
     */
    public static ClippedTrainer of(Trainer trainer, Clipper clipper) {
        return builder().setTrainer(trainer).setClipper(clipper).build();
    }

    /**
     * Trains one batch from a DJL {@link Batch}: forward and backward on each split, listeners,
     * clip, then update or skip.
     *
     * @param batch the batch (not closed here)
     * @return the loss and the report
     * @throws dev.gradclip.NonFiniteGradientException under {@code THROW} when a gradient holds NaN or
     *                                                 an infinity (the step is then not applied)
     */
    public StepResult trainBatch(Batch batch) {
        Objects.requireNonNull(batch, "batch");
        Batch[] splits = batch.split(trainer.getDevices(), false);
        BatchData batchData = new BatchData(batch, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
        double loss = 0;
        try (GradientCollector collector = trainer.newGradientCollector()) {
            for (Batch split : splits) {
                NDList data = split.getData();
                NDList labels = split.getLabels();
                NDList preds = trainer.forward(data, labels);
                NDArray lossValue = trainer.getLoss().evaluate(labels, preds);
                collector.backward(lossValue);
                loss += lossValue.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
                batchData.getLabels().put(labels.get(0).getDevice(), labels);
                batchData.getPredictions().put(preds.get(0).getDevice(), preds);
            }
        }
        trainer.notifyListeners(listener -> listener.onTrainingBatch(trainer, batchData));
        return update(loss / splits.length, clipGradients());
    }

    /**
     * Trains one batch given as arrays, on the trainer's first device, without notifying the
     * trainer's listeners (the fast path for workloads driven step by step): the same as
     * {@code update(forwardBackward(data, labels), clipGradients())}.
     *
     * @param data   the inputs
     * @param labels the labels
     * @return the loss and the report
     * @throws dev.gradclip.NonFiniteGradientException under {@code THROW} when a gradient holds NaN or
     *                                                 an infinity (the step is then not applied)
     */
    public StepResult trainBatch(NDList data, NDList labels) {
        double loss = forwardBackward(data, labels);
        return update(loss, clipGradients());
    }

    /**
     * The first part of a step driven in parts (to time each part, or to look at the raw gradients):
     * forward and backward on one batch, on the trainer's first device, leaving the gradients in
     * place. Follow it with {@link #clipGradients()} and {@link #update(double, ClipReport)}.
     *
     * @param data   the inputs
     * @param labels the labels
     * @return the batch's loss, before the update (NaN or infinite when training diverged)
     */
    public double forwardBackward(NDList data, NDList labels) {
        try (GradientCollector collector = trainer.newGradientCollector()) {
            NDList preds = trainer.forward(data, labels);
            NDArray lossValue = trainer.getLoss().evaluate(labels, preds);
            collector.backward(lossValue);
            return lossValue.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
        }
    }

    /**
     * The second part of a step: the {@code optBeforeClip} hook, then the clipper on the gradients
     * left by backward, then the report recorded (the clipped and skipped counts, the trainer's
     * {@link ai.djl.metric.Metrics} through {@link ClipMetrics}, the report consumer). When the
     * report says skip, the gradients are set to zero: DJL's PyTorch optimizers clear gradients only
     * inside an update, so a skipped step must clear them or they would add into the next step's.
     * The view is closed afterwards, whatever happens.
     *
     * <p>When the scaling is folded ({@link #isGradientScaleFolding()}, see the class comment), the
     * clipper's factors are not written into the gradients but set on the optimizer, replacing those
     * of any earlier clip, and the gradients keep their raw values (except for what the clipper
     * edits element by element); the next update, {@link #update(double, ClipReport)} or a plain
     * {@code trainer.step()}, applies them. {@code update} removes them afterwards; after a plain
     * {@code trainer.step()} they stay set until the next {@code clipGradients()} or {@code update},
     * so a second {@code trainer.step()} without a clip in between would apply them again.
     *
     * <p>{@link GradientClipListener} runs this part alone, {@code EasyTrain} making the update.
     *
     * @return the clipper's report; when it says skip, {@link #update(double, ClipReport)} makes no
     *         update
     * @throws dev.gradclip.NonFiniteGradientException under {@code THROW} when a gradient holds NaN or
     *                                                 an infinity (nothing is recorded)
     */
    public ClipReport clipGradients() {
        ClipReport report;
        DjlGradients g = gradients();
        GradientScaleFolding target = foldingOptimizer();
        DeferredScaling deferred = null;
        try {
            if (target != null) {
                // factors of an earlier clip never reach this step's update
                target.setGradientScales(Map.of());
                deferred = new DeferredScaling(g);
            }
            if (beforeClip != null) {
                beforeClip.accept(g);
            }
            try {
                report = clipper.clip(deferred == null ? g : deferred);
            } catch (RuntimeException | Error e) {
                // leave the gradients as clipping in place would have (clippers throw before scaling)
                if (deferred != null) {
                    deferred.applyPending();
                }
                throw e;
            }
            if (report.skipped()) {
                g.zeroGradients();
            } else if (deferred != null) {
                target.setGradientScales(scalesById(deferred.pendingFactors()));
            }
        } finally {
            g.close();
        }
        lastReport = report;
        if (report.skipped()) {
            skippedSteps++;
        }
        if (report.clipped()) {
            clippedSteps++;
        }
        ClipMetrics.record(trainer.getMetrics(), metricsPrefix, report);
        if (reportConsumer != null) {
            reportConsumer.accept(report);
        }
        return report;
    }

    /**
     * The last part of a step: {@code trainer.step()}, unless the report says skip; then no update is
     * made, and the parameters, the optimizer's state and its update counter stay exactly as they
     * were (the gradients were cleared by {@link #clipGradients()}). When the scaling is folded, the
     * update applies the factors {@link #clipGradients()} set on the optimizer, which are removed
     * afterwards, whether the update returns or throws.
     *
     * @param loss   the loss {@link #forwardBackward} returned
     * @param report the report {@link #clipGradients()} returned
     * @return the step's result, steps numbered from 0
     * @throws NullPointerException if {@code report} is null
     */
    public StepResult update(double loss, ClipReport report) {
        boolean skip = Objects.requireNonNull(report, "report").skipped();
        if (!skip) {
            try {
                trainer.step();
            } finally {
                if (foldingOptimizer != null) {
                    foldingOptimizer.setGradientScales(Map.of());
                }
            }
        }
        return new StepResult(step++, loss, report, skip);
    }

    /**
     * Whether this loop folds the clipper's scaling into the optimizer's update (see the class
     * comment): folding is on ({@link Builder#optGradientScaleFolding(boolean)}, the default) and the
     * trainer's optimizer implements {@link GradientScaleFolding}.
     *
     * @return {@code true} when scaling factors go to the optimizer, {@code false} when the gradients
     *         are scaled in place
     */
    public boolean isGradientScaleFolding() {
        return foldingOptimizer() != null;
    }

    /**
     * The optimizer to fold into, looked up once: null when folding is off, the optimizer does not
     * fold, or DJL's private fields cannot be read (then the scaling is written in place, as before).
     */
    private GradientScaleFolding foldingOptimizer() {
        if (folding && !optimizerLookedUp) {
            optimizerLookedUp = true;
            ai.djl.training.optimizer.Optimizer optimizer;
            try {
                optimizer = TrainerParameters.optimizer(trainer);
            } catch (IllegalStateException e) {
                optimizer = null;
            }
            if (optimizer instanceof GradientScaleFolding f) {
                List<TrainerParameters.Named> params = TrainerParameters.trainable(trainer.getModel().getBlock());
                DjlGradients g = gradients();
                // the view lists the block's trainable parameters in this order (DjlGradients.of)
                if (params.size() == g.tensorCount()) {
                    parameterIds = new String[params.size()];
                    for (int t = 0; t < parameterIds.length; t++) {
                        parameterIds[t] = params.get(t).parameter().getId();
                    }
                    foldingOptimizer = f;
                }
            }
        }
        return foldingOptimizer;
    }

    /** The pending factors of {@link DeferredScaling#pendingFactors()} keyed by parameter id, 1s left out. */
    private Map<String, Float> scalesById(float[] factors) {
        if (factors == null) {
            return Map.of();
        }
        Map<String, Float> out = new HashMap<>();
        for (int t = 0; t < factors.length; t++) {
            if (factors[t] != 1f) {
                out.put(parameterIds[t], factors[t]);
            }
        }
        return out;
    }

    /**
     * Trains for whole epochs, as {@link ai.djl.training.EasyTrain#fit} does, but with clipping and
     * true skipping; validates after each epoch when a validation set is given.
     *
     * @param numEpoch        the number of epochs
     * @param trainingDataset the training data
     * @param validateDataset the validation data, or {@code null}
     * @throws IOException        if the dataset cannot be read
     * @throws TranslateException if a batch cannot be prepared
     */
    public void fit(int numEpoch, Dataset trainingDataset, Dataset validateDataset)
            throws IOException, TranslateException {
        if (numEpoch < 0) {
            throw new IllegalArgumentException("numEpoch must be >= 0, got " + numEpoch);
        }
        for (int epoch = 0; epoch < numEpoch; epoch++) {
            for (Batch batch : trainer.iterateDataset(trainingDataset)) {
                try {
                    trainBatch(batch);
                } finally {
                    batch.close();
                }
            }
            ai.djl.training.EasyTrain.evaluateDataset(trainer, validateDataset);
            trainer.notifyListeners(listener -> listener.onEpoch(trainer));
        }
    }

    /**
     * The view of the trainer's gradients this loop clips, built once (the model's parameters do not
     * change during training) and closed after every step.
     *
     * @return the view
     */
    public DjlGradients gradients() {
        if (gradients == null) {
            gradients = DjlGradients.of(trainer);
        }
        return gradients;
    }

    /** @return the trainer driven */
    public Trainer getTrainer() {
        return trainer;
    }

    /** @return the clipper ({@link dev.gradclip.Clippers#none()} for an unclipped loop) */
    public Clipper getClipper() {
        return clipper;
    }

    /** @return the number of steps trained so far (skipped ones included) */
    public long getSteps() {
        return step;
    }

    /** @return the number of steps skipped so far */
    public long getSkippedSteps() {
        return skippedSteps;
    }

    /** @return the number of steps whose gradients were clipped so far */
    public long getClippedSteps() {
        return clippedSteps;
    }

    /** @return the report of the latest step, or {@code null} before the first step */
    public ClipReport getLastReport() {
        return lastReport;
    }

    /** Builds a {@link ClippedTrainer}; {@code setX} settings are required, {@code optX} optional. */
    public static final class Builder {
        private Trainer trainer;
        private Clipper clipper;
        private String metricsPrefix = ClipMetrics.DEFAULT_PREFIX;
        private Consumer<ClipReport> reportConsumer;
        private Consumer<DjlGradients> beforeClip;
        private boolean folding = true;

        private Builder() {
        }

        /**
         * @param trainer the trainer whose model is trained (required)
         * @return this builder
         */
        public Builder setTrainer(Trainer trainer) {
            this.trainer = Objects.requireNonNull(trainer, "trainer");
            return this;
        }

        /**
         * @param clipper the clipper applied after backward (required); {@link dev.gradclip.Clippers#none()}
         *                for an unclipped baseline, which still measures and reports every step
         * @return this builder
         * @throws NullPointerException if {@code clipper} is null
         */
        public Builder setClipper(Clipper clipper) {
            this.clipper = Objects.requireNonNull(clipper, "clipper (use Clippers.none() to train unclipped)");
            return this;
        }

        /**
         * @param prefix the prefix of the metric names (default {@value ClipMetrics#DEFAULT_PREFIX})
         * @return this builder
         */
        public Builder optMetricsPrefix(String prefix) {
            this.metricsPrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /**
         * @param consumer receives every step's report
         * @return this builder
         */
        public Builder optReportConsumer(Consumer<ClipReport> consumer) {
            this.reportConsumer = consumer;
            return this;
        }

        /**
         * @param hook runs on the gradients after backward and before the clipper, e.g. to inject
         *             faults in tests or to inspect raw gradients
         * @return this builder
         */
        public Builder optBeforeClip(Consumer<DjlGradients> hook) {
            this.beforeClip = hook;
            return this;
        }

        /**
         * Whether the clipper's scaling may be folded into the optimizer's update (default
         * {@code true}; see the class comment). Folding happens only when the trainer's optimizer
         * implements {@link GradientScaleFolding}; with any other optimizer this setting changes
         * nothing.
         *
         * @param folding {@code true} to hand a clipper's per-tensor factors to the optimizer, leaving
         *                the gradient arrays unscaled; {@code false} to scale the gradients in place
         *                and then step, as with an optimizer that does not fold
         * @return this builder
         */
        public Builder optGradientScaleFolding(boolean folding) {
            this.folding = folding;
            return this;
        }

        /**
         * @return the loop
         * @throws IllegalArgumentException if the trainer or the clipper was not set
         */
        public ClippedTrainer build() {
            if (trainer == null) {
                throw new IllegalArgumentException("trainer is required: call setTrainer(trainer)");
            }
            if (clipper == null) {
                throw new IllegalArgumentException("clipper is required: call setClipper(clipper);"
                        + " use Clippers.none() to train unclipped (it measures and reports without clipping)");
            }
            return new ClippedTrainer(this);
        }
    }
}
