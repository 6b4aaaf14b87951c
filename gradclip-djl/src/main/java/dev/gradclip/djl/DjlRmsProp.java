package dev.gradclip.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RMSprop exactly as PyTorch's {@code torch.optim.RMSprop}: plain, centered, and with momentum,
 * written with plain NDArray operations so that it runs on every DJL engine (DJL 0.36's PyTorch
 * engine throws "Not implemented" for DJL's own {@code RmsProp}, whose formulas also differ).
 *
 * <p>Per parameter, with learning rate {@code η} from the tracker, smoothing constant {@code α},
 * {@code ε}, momentum {@code μ}, and the gradient {@code g} prepared as DJL's builders define it
 * ({@code g ← clamp(r·g, −c, c) + λ·θ}, see {@link Optimizer.OptimizerBuilder}):
 * <pre>
 *   v ← α·v + (1 − α)·g²
 *   centered:   a ← α·a + (1 − α)·g;   D = sqrt(max(v − a², 0)) + ε     otherwise  D = sqrt(v) + ε
 *   μ = 0:      θ ← θ − η·g/D
 *   μ &gt; 0:      b ← μ·b + g/D;   θ ← θ − η·b
 * </pre>
 * with {@code v}, {@code a} and {@code b} starting at 0. Defaults are PyTorch's: {@code η = 0.01},
 * {@code α = 0.99}, {@code ε = 1e-8}, {@code μ = 0}, not centered. The variance estimate
 * {@code v − a²} is clamped at 0 because float rounding can push it a hair below, where PyTorch
 * would produce NaN; otherwise the update equals gradclip-core's {@code Optimizers.rmsProp(η)} with
 * the same settings.
 *
 * <p>Folded clipping ({@link GradientScaleFolding}): with a clip factor {@code k} set for the
 * parameter, {@code g ← clamp(r·(k·g), −c, c) + λ·θ}, bit for bit the update of the gradient scaled
 * by {@code k} in place first, without writing the gradient ({@link ClippedTrainer} sets the
 * factors): {@code k} multiplies the gradient where the rescale factor {@code r} would (with
 * {@code r = 1}, the default, in its place), before the clamp and the weight decay.
 *
 * <p>References: Hinton, Srivastava and Swersky, "Neural Networks for Machine Learning", lecture 6e
 * (2012); centered form: Graves, "Generating Sequences With Recurrent Neural Networks",
 * arXiv:1308.0850.
 *
 * <p>The update is applied in place; the weight's gradient is then set to zero, as DJL's native
 * updates do. An optimizer trusts its gradients: NaN or infinite gradients reach the weights, so
 * clip them first (see {@link ClippedTrainer}). State: {@code v}, plus {@code a} when centered, plus
 * {@code b} with momentum, per parameter and device, created by the weight's manager at the first
 * update (as DJL's {@code Adam} keeps its moments). {@link DjlTrainingState} saves and restores it.
 * The update must run outside a gradient collector, as {@code Trainer.step()} does.
 *
 * <pre>{@code
 * Optimizer rms = DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(1e-3f))
 *         .optCentered(true).optMomentum(0.9f).build();
 * }</pre>
 */
public final class DjlRmsProp extends Optimizer implements GradientScaleFolding {

    /** PyTorch's default learning rate for RMSprop. */
    public static final float DEFAULT_LEARNING_RATE = 1e-2f;
    /** PyTorch's default smoothing constant α. */
    public static final float DEFAULT_ALPHA = 0.99f;
    /** PyTorch's default ε. */
    public static final float DEFAULT_EPSILON = 1e-8f;

    private final ParameterTracker learningRateTracker;
    private final float alpha;
    private final float epsilon;
    private final float momentum;
    private final boolean centered;
    private final Map<String, Map<Device, NDArray>> squareAverages = new ConcurrentHashMap<>();
    private final Map<String, Map<Device, NDArray>> gradientAverages = new ConcurrentHashMap<>();
    private final Map<String, Map<Device, NDArray>> momentumBuffers = new ConcurrentHashMap<>();
    /** The clip factors of the step in progress, not state (so transient: DjlTrainingState skips it). */
    private transient volatile Map<String, Float> gradientScales = Map.of();

    private DjlRmsProp(Builder builder) {
        super(builder);
        this.learningRateTracker = Objects.requireNonNull(builder.learningRateTracker, "learningRateTracker");
        this.alpha = UpdateSupport.checkRange("alpha", builder.alpha, 0f, 1f);
        this.epsilon = UpdateSupport.checkNonNegative("epsilon", builder.epsilon);
        this.momentum = UpdateSupport.checkRange("momentum", builder.momentum, 0f, 1f);
        this.centered = builder.centered;
        UpdateSupport.checkNonNegative("weightDecays", getWeightDecay());
    }

    /**
     * Creates a builder with PyTorch's defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the smoothing constant α */
    public float alpha() {
        return alpha;
    }

    /** @return ε */
    public float epsilon() {
        return epsilon;
    }

    /** @return the momentum μ (0 for none) */
    public float momentum() {
        return momentum;
    }

    /** @return whether the update is normalised by the variance estimate (Graves 2013) */
    public boolean centered() {
        return centered;
    }

    /**
     * Applies one RMSprop update to {@code weight} in place, then clears the weight's gradient.
     *
     * @param parameterId the parameter's id (keys the state and the update count)
     * @param weight      the parameter, updated in place
     * @param grad        its gradient (not modified)
     * @throws IllegalStateException if the tracker gives a negative or non-finite learning rate
     */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        float lr = UpdateSupport.learningRate(learningRateTracker, parameterId, updateCount(parameterId));
        Device device = weight.getDevice();
        NDArray v = withDefaultState(squareAverages, parameterId, device, k -> weight.zerosLike());
        try (NDManager scope = NDManager.subManagerOf(weight)) {
            NDArray g = UpdateSupport.effectiveGradient(scope, weight, grad, rescaleGrad,
                    getGradientScale(parameterId), clipGrad, getWeightDecay());
            float keep = 1f - alpha;
            v.muli(alpha).addi(UpdateSupport.scoped(scope, g.square()).muli(keep));
            NDArray denominator;
            if (centered) {
                NDArray a = withDefaultState(gradientAverages, parameterId, device, k -> weight.zerosLike());
                a.muli(alpha).addi(UpdateSupport.scoped(scope, g.mul(keep)));
                NDArray variance = UpdateSupport.scoped(scope, v.sub(UpdateSupport.scoped(scope, a.square())));
                denominator = UpdateSupport.scoped(scope,
                        UpdateSupport.scoped(scope, variance.maximum(0f)).sqrt()).addi(epsilon);
            } else {
                denominator = UpdateSupport.scoped(scope, v.sqrt()).addi(epsilon);
            }
            NDArray normalised = UpdateSupport.scoped(scope, g.div(denominator));
            if (momentum > 0f) {
                NDArray b = withDefaultState(momentumBuffers, parameterId, device, k -> weight.zerosLike());
                b.muli(momentum).addi(normalised);
                weight.subi(UpdateSupport.scoped(scope, b.mul(lr)));
            } else {
                weight.subi(normalised.muli(lr));
            }
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
     * Builds a {@link DjlRmsProp}, with PyTorch's defaults for what is not set; weight decay,
     * gradient rescaling and clamping come from {@link OptimizerBuilder}.
     */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private ParameterTracker learningRateTracker = Tracker.fixed(DEFAULT_LEARNING_RATE);
        private float alpha = DEFAULT_ALPHA;
        private float epsilon = DEFAULT_EPSILON;
        private float momentum;
        private boolean centered;

        Builder() {
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the learning-rate tracker (default: fixed at 0.01); it is asked for the rate of every
         * update with DJL's update count, which starts at 1.
         *
         * @param learningRateTracker the tracker
         * @return this builder
         */
        public Builder optLearningRateTracker(ParameterTracker learningRateTracker) {
            this.learningRateTracker = learningRateTracker;
            return this;
        }

        /**
         * Sets the smoothing constant α of the squared-gradient average (default 0.99).
         *
         * @param alpha α in [0, 1)
         * @return this builder
         */
        public Builder optAlpha(float alpha) {
            this.alpha = alpha;
            return this;
        }

        /**
         * Sets ε, added to the root mean square (default 1e-8).
         *
         * @param epsilon ε, finite and ≥ 0
         * @return this builder
         */
        public Builder optEpsilon(float epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        /**
         * Sets the momentum μ of the buffer over the normalised gradient (default 0, none).
         *
         * @param momentum μ in [0, 1)
         * @return this builder
         */
        public Builder optMomentum(float momentum) {
            this.momentum = momentum;
            return this;
        }

        /**
         * Chooses the centered form, normalising by the variance estimate {@code v − a²} instead of
         * the raw second moment (default false).
         *
         * @param centered whether to center
         * @return this builder
         */
        public Builder optCentered(boolean centered) {
            this.centered = centered;
            return this;
        }

        /**
         * Builds the optimizer.
         *
         * @return the optimizer
         * @throws NullPointerException     if the learning-rate tracker was set to null
         * @throws IllegalArgumentException if α or μ is not in [0, 1), or ε or the weight decay is
         *                                  negative or not finite
         */
        public DjlRmsProp build() {
            return new DjlRmsProp(this);
        }
    }
}
