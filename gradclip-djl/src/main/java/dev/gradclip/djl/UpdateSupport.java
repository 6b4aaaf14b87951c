package dev.gradclip.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.ParameterTracker;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link DjlNesterov} and {@link DjlRmsProp} share: the gradient as DJL's own updates prepare it
 * (rescaled, with a folded clip factor, clamped, weight decay added), the checks of the learning rate
 * and of {@link GradientScaleFolding}'s factors, and clearing the weight's gradient after an update
 * as DJL's native updates do.
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
     * The gradient an update uses, {@code clamp(r·(k·g), −c, c) + λ·θ}, with the rescale factor r, the
     * clamp c (off when negative) and the coupled weight decay λ of DJL's optimizer builders, and the
     * folded clip factor k of {@link GradientScaleFolding} (1 when none), bit for bit the gradient of
     * scaling by k in place and then preparing it. When r or k is 1 (r is 1 unless set), the array is
     * multiplied once, by {@code r·k} (exact, one of them being 1), into a new array: the pass the
     * in-place scale would have made over the gradient. Otherwise it is multiplied by k, then the new
     * array by r in place: the float {@code r·k} rounded once would differ from scaling first by a
     * rounding per element, which compounds over steps (2 to 40 units in the last place of some
     * weights within 6 steps of {@code GradientScaleFoldingTest}'s models). Returns {@code grad}
     * itself when all four are neutral (never modify the result in place), otherwise a new array in
     * {@code scope}; {@code grad} is never modified.
     */
    static NDArray effectiveGradient(NDManager scope, NDArray weight, NDArray grad, float rescale, float scale,
            float clip, float weightDecay) {
        NDArray g = grad;
        if (rescale == 1f || scale == 1f) {
            float factor = rescale * scale;
            if (factor != 1f) {
                g = scoped(scope, g.mul(factor));
            }
        } else {
            g = scoped(scope, g.mul(scale)).muli(rescale);
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
     * The factors of {@link GradientScaleFolding#setGradientScales}, checked and copied.
     *
     * @throws NullPointerException if the map, a key or a value is null
     */
    static Map<String, Float> gradientScales(Map<String, Float> scales) {
        return Map.copyOf(Objects.requireNonNull(scales, "scales"));
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
