/**
 * Optimizers on {@code float[]} parameters and the composition of a clipper with an optimizer into
 * one training step, with explicit state that saves to bytes and restores bit for bit.
 *
 * <ul>
 *   <li>{@link dev.gradclip.optim.Optimizers}: SGD, heavy-ball momentum, Nesterov, RMSprop (plain,
 *       centered, with momentum), Adam and AdamW, with PyTorch's defaults, each on a constant
 *       learning rate or a {@link dev.gradclip.Schedule} (constant, step, cosine, linear warm-up);</li>
 *   <li>{@link dev.gradclip.optim.TrainingStep}: clip, then step unless the clipper asks to skip;
 *       returns a {@link dev.gradclip.optim.StepReport}.</li>
 * </ul>
 *
 * <p>Usage, the seed example ({@code J(x) = x²} from {@code x0 = 1}, SGD with {@code η = 0.1},
 * value clipping at 1):
 * <pre>{@code
 * float[] x = {1.0f};
 * float[] grad = new float[1];
 * GradientSet set = GradientSet.builder().add("x", grad, x).build();   // gradient paired with x
 * TrainingStep step = TrainingStep.of(Clippers.value(1.0), Optimizers.sgd(0.1));
 * for (int i = 1; i <= 100; i++) {
 *     grad[0] = 2 * x[0];                       // dJ/dx
 *     StepReport r = step.update(set);          // clips grad in place, then x ← x − η·grad
 *     // r.gradientNorm(), r.clip().normAfter(), r.clip().coefficient(), r.clipped(), r.skipped()
 * }
 * byte[] checkpoint = step.saveState();         // clipper statistics + optimizer moments + counters
 * }</pre>
 * The seed example ({@code dev.gradclip.examples.QuadraticExample} in this module's test sources)
 * runs exactly this.
 */
package dev.gradclip.optim;
