/**
 * The jobs behind {@link dev.gradclip.djl.DjlGradients}, one class each: finding a trainer's
 * parameters ({@link dev.gradclip.djl.internal.TrainerParameters}), holding the gradient handles and
 * the host views over them with their validity ({@link dev.gradclip.djl.internal.GradientHandles}),
 * norms computed with NDArray operations on the device ({@link dev.gradclip.djl.internal.DeviceNorms}),
 * reads of CPU tensors in place on the host ({@link dev.gradclip.djl.internal.HostReads}), and the
 * edits made with NDArray operations ({@link dev.gradclip.djl.internal.DeviceEdits}).
 *
 * <p>Not public API: public only so that the facade in {@code dev.gradclip.djl} can use it; it is
 * left out of the Javadoc and may change in any release.
 */
package dev.gradclip.djl.internal;
