package dev.gradclip.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.ParameterTracker;

/**
 * What {@link DjlNesterov} and {@link DjlRmsProp} share: the gradient as DJL's own updates prepare it
 * (rescaled, clamped, weight decay added), the learning-rate check, and clearing the weight's
 * gradient after an update as DJL's native updates do.
 */
final class UpdateSupport {

    private UpdateSupport() {
    }

    /**
     * Moves an array into the update's scope, so that closing the scope closes it. NDArray operations
     * put their result in the manager of their first operand: results of operations on a weight, a
     * gradient or an optimizer state (which lives in no scope) must be moved explicitly.
     */
    static NDArray scoped(NDManager scope, NDArray array) {
        array.attach(scope);
        return array;
    }

    /**
     * The gradient an update uses, {@code clamp(r·g, −c, c) + λ·θ}, with the rescale factor r, the
     * clamp c (off when negative) and the coupled weight decay λ of DJL's optimizer builders. Returns
     * {@code grad} itself when all three are neutral (never modify the result in place), otherwise a
     * new array in {@code scope}.
     */
    static NDArray effectiveGradient(NDManager scope, NDArray weight, NDArray grad, float rescale, float clip,
            float weightDecay) {
        NDArray g = grad;
        if (rescale != 1f) {
            g = scoped(scope, g.mul(rescale));
        }
        if (clip >= 0f) {
            g = scoped(scope, g.clip(-clip, clip));
        }
        if (weightDecay != 0f) {
            g = scoped(scope, weight.mul(weightDecay)).addi(g);
        }
        return g;
    }

    /**
     * The learning rate of this update from the tracker.
     *
     * @throws IllegalStateException if the tracker gives a negative or non-finite rate
     */
    static float learningRate(ParameterTracker tracker, String parameterId, int updateCount) {
        float lr = tracker.getNewValue(parameterId, updateCount);
        if (!(lr >= 0f) || lr == Float.POSITIVE_INFINITY) {
            throw new IllegalStateException("the learning-rate tracker gave " + lr + " at update " + updateCount
                    + " of parameter " + parameterId + "; a learning rate must be finite and >= 0");
        }
        return lr;
    }

    /**
     * Sets the gradient attached to {@code weight} to zero. The PyTorch engine accumulates gradients
     * across backward passes, and DJL's trainer relies on each optimizer update to clear them (its
     * native SGD and Adam updates do); the {@code grad} an optimizer receives is a copy, so the
     * weight's own gradient must be cleared here.
     */
    static void zeroGradientOf(NDArray weight) {
        if (!weight.hasGradient() || weight.size() == 0) {
            return;
        }
        try (NDArray gradient = weight.getGradient();
                NDArray all = weight.getManager().ones(weight.getShape(), DataType.BOOLEAN, weight.getDevice())) {
            // multiplying by 0 would keep NaN and turn an infinity into NaN; a full mask writes true zeros
            gradient.set(all, 0f);
        }
    }

    static float checkRange(String name, float value, float lowInclusive, float highExclusive) {
        if (!(value >= lowInclusive && value < highExclusive)) {
            throw new IllegalArgumentException(name + " must be in [" + lowInclusive + ", " + highExclusive
                    + "), got " + value);
        }
        return value;
    }

    static float checkNonNegative(String name, float value) {
        if (!(value >= 0f) || value == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
        return value;
    }
}
