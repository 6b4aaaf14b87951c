package dev.gradclip.djl;

import java.util.Map;

/**
 * A DJL optimizer that multiplies each parameter's gradient by a factor inside its own update, so
 * that a clipper's scaling need not be written into the gradient first: {@link ClippedTrainer} hands
 * it the per-parameter factors a norm clipper decides ("folding" them), instead of scaling the
 * gradient arrays in place and letting the optimizer read them again.
 *
 * <p>The contract, for an optimizer whose update prepares the gradient as DJL's builders define it,
 * {@code g ← clamp(r·g, −c, c) + λ·θ} (rescale factor {@code r}, clamp {@code c}, coupled weight decay
 * {@code λ}; see {@link ai.djl.training.optimizer.Optimizer.OptimizerBuilder}): with a factor
 * {@code k} set for a parameter, its updates use
 * <pre>
 *   g ← clamp(r·(k·g), −c, c) + λ·θ
 * </pre>
 * which is the update of the gradient scaled by {@code k} in place first: {@code k} goes inside the
 * clamp and does not touch the weight decay term. The implementations here make it bit for bit that
 * update: each element is the float product {@code k·g} the in-place scale writes, then rescaled by
 * {@code r}. Where {@code r = 1} (DJL's default) {@code k} takes the place of the rescale
 * multiplication: one pass over the gradient into a new array, instead of the in-place scale's pass
 * over the gradient itself; where {@code r ≠ 1} the gradient is multiplied by {@code k} into a new
 * array and that by {@code r} in place, as scaling first and then rescaling does ({@code r·k}
 * rounded once would change each prepared element by a rounding, and weights drift by several units
 * in the last place within a few steps). The gradient array given to the update is never modified.
 *
 * <p>A factor stays in force for every update of its parameter (one per device copy, as DJL's
 * {@code LocalParameterServer} calls the optimizer once per copy) until the factors are replaced;
 * parameters without a factor are updated as usual ({@code k = 1}). Factors are not optimizer state:
 * they belong to the step in progress, and {@link DjlTrainingState} neither saves nor restores them.
 * Not thread-safe with respect to updates running at the same time as {@link #setGradientScales}.
 *
 * <p>{@link DjlNesterov} and {@link DjlRmsProp} implement it. DJL's native {@code Sgd}, {@code Adam}
 * and {@code AdamW} do not, and {@link ClippedTrainer} scales their gradients in place as before:
 * their update hands the protected {@code rescaleGrad} to the engine's fused kernel, so folding would
 * mean a subclass that sets {@code rescaleGrad} to {@code r·k} around each {@code super.update} (a
 * shared field changed per call, and with {@code r ≠ 1} not the update of the gradient scaled first).
 */
public interface GradientScaleFolding {

    /**
     * Replaces the gradient factors: from now on, the updates of each parameter named in
     * {@code scales} multiply its gradient by its factor (see the interface comment), and the other
     * parameters' updates use none. An empty map removes every factor.
     *
     * @param scales the factor {@code k} per DJL parameter id (the {@code parameterId} of
     *               {@link ai.djl.training.optimizer.Optimizer#update}, {@link ai.djl.nn.Parameter#getId()}),
     *               any float: 0, NaN and the infinities give what an in-place scale by them gives
     *               (zeros, NaN, infinities); copied
     * @throws NullPointerException if {@code scales}, a key or a value is null (nothing changes then)
     */
    void setGradientScales(Map<String, Float> scales);

    /**
     * @param parameterId a DJL parameter id
     * @return the factor the parameter's updates multiply its gradient by, 1 when none is set
     */
    float getGradientScale(String parameterId);
}
