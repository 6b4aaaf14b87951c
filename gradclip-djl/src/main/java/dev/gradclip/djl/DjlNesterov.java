package dev.gradclip.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SGD with Nesterov momentum exactly as PyTorch's {@code torch.optim.SGD(nesterov=True)}, written
 * with plain NDArray operations so that it runs on every DJL engine (DJL 0.36's PyTorch engine throws
 * "Not implemented" for DJL's own {@code Nag}).
 *
 * <p>Per parameter, with learning rate {@code η} from the tracker, momentum {@code μ} and the
 * gradient {@code g} prepared as DJL's builders define it ({@code g ← clamp(r·g, −c, c) + λ·θ},
 * see {@link Optimizer.OptimizerBuilder}):
 * <pre>
 *   b ← μ·b + g                (b starts at 0, so the first step sets b = g)
 *   θ ← θ − η·(g + μ·b)
 * </pre>
 * This is the form of Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and
 * momentum in deep learning" (ICML 2013), as PyTorch implements it; it equals gradclip-core's
 * {@code Optimizers.nesterov(η, μ)}. The update is applied in place; the weight's gradient is then
 * set to zero, as DJL's native updates do. An optimizer trusts its gradients: NaN or infinite
 * gradients reach the weights, so clip them first (see {@link ClippedTrainer}).
 *
 * <p>Folded clipping ({@link GradientScaleFolding}): with a clip factor {@code k} set for the
 * parameter, {@code g ← clamp(r·(k·g), −c, c) + λ·θ}, bit for bit the update of the gradient scaled
 * by {@code k} in place first, without writing the gradient ({@link ClippedTrainer} sets the
 * factors): {@code k} multiplies the gradient where the rescale factor {@code r} would (with
 * {@code r = 1}, the default, in its place), before the clamp and the weight decay.
 *
 * <p>State: one momentum buffer per parameter and device, created by the weight's manager at the
 * first update (as DJL's {@code Sgd} keeps its momentum). {@link DjlTrainingState} saves and restores
 * it. The update must run outside a gradient collector, as {@code Trainer.step()} does.
 *
 * <pre>{@code
 * Optimizer nesterov = DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.01f))
 *         .setMomentum(0.9f).build();
 * }</pre>
 */
public final class DjlNesterov extends Optimizer implements GradientScaleFolding {

    private final ParameterTracker learningRateTracker;
    private final float momentum;
    private final Map<String, Map<Device, NDArray>> momentumBuffers = new ConcurrentHashMap<>();
    /** The clip factors of the step in progress, not state (so transient: DjlTrainingState skips it). */
    private transient volatile Map<String, Float> gradientScales = Map.of();

    private DjlNesterov(Builder builder) {
        super(builder);
        this.learningRateTracker = Objects.requireNonNull(builder.learningRateTracker,
                "learningRateTracker: set it with setLearningRateTracker");
        if (!(builder.momentum > 0f && builder.momentum < 1f)) {
            throw new IllegalArgumentException("momentum must be in (0, 1) for Nesterov momentum, got "
                    + builder.momentum);
        }
        this.momentum = builder.momentum;
        UpdateSupport.checkNonNegative("weightDecays", getWeightDecay());
    }

    /**
     * Creates a builder; the learning-rate tracker and the momentum must be set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the momentum μ */
    public float momentum() {
        return momentum;
    }

    /**
     * Applies one Nesterov update to {@code weight} in place, then clears the weight's gradient.
     *
     * @param parameterId the parameter's id (keys the momentum buffer and the update count)
     * @param weight      the parameter, updated in place
     * @param grad        its gradient (not modified)
     * @throws IllegalStateException if the tracker gives a negative or non-finite learning rate
     */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        float lr = UpdateSupport.learningRate(learningRateTracker, parameterId, updateCount(parameterId));
        NDArray buffer = withDefaultState(momentumBuffers, parameterId, weight.getDevice(), k -> weight.zerosLike());
        try (NDManager scope = NDManager.subManagerOf(weight)) {
            NDArray g = UpdateSupport.effectiveGradient(scope, weight, grad, rescaleGrad,
                    getGradientScale(parameterId), clipGrad, getWeightDecay());
            buffer.muli(momentum).addi(g);
            NDArray step = UpdateSupport.scoped(scope, buffer.mul(momentum)).addi(g).muli(lr);
            weight.subi(step);
        }
        UpdateSupport.zeroGradientOf(weight);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the update's prepared gradient is {@code clamp(r·(k·g), −c, c) + λ·θ} (see the class
     * comment), {@code k·g} being the float product an in-place scale writes; the gradient array is
     * not modified.
     */
    @Override
    public void setGradientScales(Map<String, Float> scales) {
        gradientScales = UpdateSupport.gradientScales(scales);
    }

    @Override
    public float getGradientScale(String parameterId) {
        return gradientScales.getOrDefault(parameterId, 1f);
    }

    /**
     * Builds a {@link DjlNesterov}: {@code setLearningRateTracker} and {@code setMomentum} are
     * required; weight decay, gradient rescaling and clamping come from {@link OptimizerBuilder}.
     */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private ParameterTracker learningRateTracker;
        private float momentum = Float.NaN;

        Builder() {
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the learning-rate tracker (required); it is asked for the rate of every update with
         * DJL's update count, which starts at 1.
         *
         * @param learningRateTracker the tracker
         * @return this builder
         */
        public Builder setLearningRateTracker(ParameterTracker learningRateTracker) {
            this.learningRateTracker = learningRateTracker;
            return this;
        }

        /**
         * Sets the momentum μ (required).
         *
         * @param momentum μ in (0, 1); 0.9 is usual
         * @return this builder
         */
        public Builder setMomentum(float momentum) {
            this.momentum = momentum;
            return this;
        }

        /**
         * Builds the optimizer.
         *
         * @return the optimizer
         * @throws NullPointerException     if no learning-rate tracker was set
         * @throws IllegalArgumentException if the momentum is unset or not in (0, 1), or the weight
         *                                  decay is negative or not finite
         */
        public DjlNesterov build() {
            return new DjlNesterov(this);
        }
    }
}
