package dev.gradclip.djl;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A DJL {@link ai.djl.training.listener.TrainingListener} that clips the gradients of every training
 * batch, for use with {@link ai.djl.training.EasyTrain#fit}.
 *
 * <p>DJL's {@code EasyTrain.trainBatch} runs forward and backward, then calls every listener's
 * {@code onTrainingBatch}, and {@code EasyTrain.fit} calls {@code trainer.step()} right after: so
 * {@link #onTrainingBatch} sees the gradients after backward and before the update, where clipping
 * belongs.
 *
 * <pre>{@code
 * GradientClipListener clip = GradientClipListener.builder()
 *         .setClipper(Clippers.globalNorm(1.0))
 *         .build();
 * TrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss()).addTrainingListeners(clip);
 * try (Trainer trainer = model.newTrainer(config)) {
 *     trainer.initialize(inputShape);
 *     EasyTrain.fit(trainer, epochs, trainSet, null);
 * }
 * ClipReport last = clip.getLastReport();
 * }</pre>
 * (This example is compiled and run by {@code JavadocSnippetsTest} in this module's tests, which
 * holds the same text and fails when the two differ.)
 *
 * <p>The clipper is required; {@link dev.gradclip.Clippers#none()} measures and reports without
 * clipping.
 *
 * <p>Skipping: {@code EasyTrain} always calls {@code trainer.step()}, so a listener cannot skip a
 * step. When a report says skip, this listener sets the gradients to zero: SGD without weight decay
 * then leaves the parameters unchanged, but the optimizer still counts the update and adaptive
 * optimizers (Adam, momentum) still move their state. Use {@link ClippedTrainer} to skip truly.
 *
 * <p>The clipper's scaling is always written into the gradients here, never folded into the
 * optimizer's update ({@link GradientScaleFolding}): the listener does not make the update, so it
 * could not remove factors handed to the optimizer once {@code EasyTrain}'s step is done. Use
 * {@link ClippedTrainer} to fold.
 */
public final class GradientClipListener extends TrainingListenerAdapter {

    private final Clipper clipper;
    private final String metricsPrefix;
    private final Consumer<ClipReport> reportConsumer;
    private ClipReport lastReport;
    private long steps;
    private long clippedSteps;
    private long skippedSteps;
    private Trainer loopOf;
    private ClippedTrainer loop;

    private GradientClipListener(Builder b) {
        this.clipper = b.clipper;
        this.metricsPrefix = b.metricsPrefix;
        this.reportConsumer = b.reportConsumer;
    }

    /** @return a builder; {@link Builder#setClipper} is required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A listener clipping every batch by global L2 norm, in one line (Keras'
     * {@code global_clipnorm}, PyTorch's {@code clip_grad_norm_(model.parameters(), maxNorm)}):
     * {@code config.addTrainingListeners(GradientClipListener.globalNorm(1.0))}.
     *
     * <p>Rule: with {@code n = sqrt(Σ_t Σ_i g_ti²)}, the L2 norm of all the model's gradients
     * together, every gradient is multiplied by {@code maxNorm / n} when {@code n > maxNorm}
     * (more than 1e-6 relative); otherwise nothing is written. The clipped norm is {@code maxNorm}
     * within 1e-6 relative, and the direction of the update is kept.
     *
     * <p>Special cases: gradients that are all 0 (norm 0) are left as they are. A NaN
     * or an infinity in a gradient throws {@link dev.gradclip.NonFiniteGradientException} (the
     * {@code THROW} policy, naming the tensor); for another policy, or another clipper, use
     * {@code builder().setClipper(Clippers.globalNorm(maxNorm).withNonFinitePolicy(...))}.
     * Equivalent to {@code builder().setClipper(Clippers.globalNorm(maxNorm)).build()}.
     *
     * @param maxNorm the threshold {@code c}, finite and positive
     * @return the listener
     * @throws IllegalArgumentException if {@code maxNorm} is not finite and positive
     */
    public static GradientClipListener globalNorm(double maxNorm) {
        return builder().setClipper(Clippers.globalNorm(maxNorm)).build();
    }

    /**
     * Clips the gradients of the batch just back-propagated.
     *
     * @param trainer   the trainer
     * @param batchData the batch (unused)
     * @throws dev.gradclip.NonFiniteGradientException under {@code THROW} when a gradient holds NaN or
     *                                                 an infinity
     */
    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        if (loopOf != trainer) {
            // the clipping part of ClippedTrainer's step, built once per trainer (its view over the
            // parameters is reused, closed after each batch); EasyTrain makes the update, so the
            // scaling is written in place: factors folded into the optimizer could not be removed
            // after EasyTrain's step
            loop = ClippedTrainer.builder().setTrainer(trainer).setClipper(clipper)
                    .optMetricsPrefix(metricsPrefix).optReportConsumer(reportConsumer)
                    .optGradientScaleFolding(false).build();
            loopOf = trainer;
        }
        ClipReport report = loop.clipGradients();
        steps++;
        if (report.skipped()) {
            skippedSteps++;
        } else if (report.clipped()) {
            clippedSteps++;
        }
        lastReport = report;
    }

    /** @return the clipper */
    public Clipper getClipper() {
        return clipper;
    }

    /** @return the latest report, or {@code null} before the first batch */
    public ClipReport getLastReport() {
        return lastReport;
    }

    /** @return how many batches were clipped or checked */
    public long getSteps() {
        return steps;
    }

    /** @return how many batches had their gradients clipped */
    public long getClippedSteps() {
        return clippedSteps;
    }

    /** @return how many batches should have been skipped (their gradients were zeroed) */
    public long getSkippedSteps() {
        return skippedSteps;
    }

    /** Builds a {@link GradientClipListener}; {@code setX} settings are required, {@code optX} optional. */
    public static final class Builder {
        private Clipper clipper;
        private String metricsPrefix = ClipMetrics.DEFAULT_PREFIX;
        private Consumer<ClipReport> reportConsumer;

        private Builder() {
        }

        /**
         * @param clipper the clipper (required); {@link dev.gradclip.Clippers#none()} to measure and
         *                report without clipping
         * @return this builder
         * @throws NullPointerException if {@code clipper} is null
         */
        public Builder setClipper(Clipper clipper) {
            this.clipper = Objects.requireNonNull(clipper,
                    "clipper (use Clippers.none() to measure without clipping)");
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
         * @param consumer receives every batch's report
         * @return this builder
         */
        public Builder optReportConsumer(Consumer<ClipReport> consumer) {
            this.reportConsumer = consumer;
            return this;
        }

        /**
         * @return the listener
         * @throws IllegalArgumentException if no clipper was set
         */
        public GradientClipListener build() {
            if (clipper == null) {
                throw new IllegalArgumentException("clipper is required: call setClipper(clipper);"
                        + " use Clippers.none() to measure and report without clipping");
            }
            return new GradientClipListener(this);
        }
    }
}
