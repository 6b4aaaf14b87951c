package dev.gradclip.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;

/**
 * The squared-error loss of DJL's {@code Loss.l2Loss()}, {@code L = mean(w·(y − ŷ)²)} with
 * {@code w = 1/2} unless given, with the same value bit for bit, but whose gradient a garbage
 * collection between forward and backward cannot corrupt on DJL's PyTorch engine.
 *
 * <p><b>Why.</b> In DJL 0.36's PyTorch engine, {@code NDArray.mul(Number)} (and every other operation
 * with a Java number) wraps the number in a scalar tensor over a direct {@code ByteBuffer}, multiplies,
 * and closes the scalar. Inside a gradient collector, PyTorch's autograd keeps that scalar tensor to
 * compute the gradient (as it does for {@code div}, {@code pow}, {@code maximum} and
 * {@code minimum}; {@code add} and {@code sub} keep no operand), but the buffer's memory belongs to
 * Java: once closed, nothing holds the buffer, and a garbage collection before {@code backward}
 * frees it. Backward then multiplies every
 * gradient by whatever the freed memory holds. DJL's {@code L2Loss} multiplies by its weight this way,
 * so a collection in that window scales every gradient of the step by a random factor (1.4e20 in the
 * test failure that found it, about 1e-37 when a collection is forced there on purpose):
 * the loss looks finite, the update explodes, and norm clipping hides it by rescaling the garbage to
 * the threshold. This loss makes the weight a scalar with {@code NDManager.full}, whose memory
 * libtorch owns and counts references to, so the autograd graph keeps it alive.
 *
 * <p>The same hazard applies to any forward code on the PyTorch engine that combines a tensor which
 * requires a gradient with a Java number by one of those operations ({@code x.mul(0.5)},
 * {@code x.div(2)}, {@code x.pow(2)}, {@code x.maximum(0)}): use a scalar from {@code full}
 * instead, or an array kept open until after {@code backward}.
 */
public class GcSafeL2Loss extends Loss {

    private final float weight;

    /** The loss named {@code "L2Loss"}, with weight 1/2, as DJL's {@code Loss.l2Loss()}. */
    public GcSafeL2Loss() {
        this("L2Loss", 0.5f);
    }

    /**
     * @param name   the loss's name (DJL reports it in metrics and logs)
     * @param weight the factor {@code w} of each squared difference
     * @throws IllegalArgumentException if the weight is not finite
     */
    public GcSafeL2Loss(String name, float weight) {
        super(name);
        if (!Float.isFinite(weight)) {
            throw new IllegalArgumentException("the weight of an L2 loss must be finite, got " + weight);
        }
        this.weight = weight;
    }

    /** @return the factor {@code w} of each squared difference */
    public float getWeight() {
        return weight;
    }

    /**
     * {@code mean(w·(y − ŷ)²)} over every element, the label reshaped to the prediction's shape, with
     * the operations of DJL's {@code L2Loss} in its order (so the value is the same bit for bit), the
     * weight being a float32 scalar made by {@code NDManager.full}.
     *
     * @param label      the targets {@code y} (one array)
     * @param prediction the predictions {@code ŷ} (one array)
     * @return the loss, a scalar array
     */
    @Override
    public NDArray evaluate(NDList label, NDList prediction) {
        NDArray pred = prediction.singletonOrThrow();
        NDArray labelReshaped = label.singletonOrThrow().reshape(pred.getShape());
        NDArray squared = labelReshaped.sub(pred).square();
        try (NDArray w = squared.getManager().full(new Shape(), weight, DataType.FLOAT32)) {
            return squared.mul(w).mean();
        }
    }
}
