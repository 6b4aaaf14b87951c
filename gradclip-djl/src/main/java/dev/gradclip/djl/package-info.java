/**
 * gradclip on Deep Java Library (DJL): every gradclip clipper on NDArray gradients, where they live.
 *
 * <ul>
 *   <li>{@link dev.gradclip.djl.DjlGradients}: the {@link dev.gradclip.Gradients} backend over DJL
 *       parameters, computing every primitive with NDArray operations on the device (one transfer of
 *       per-tensor results per call), or, on the PyTorch engine's CPU, measuring and scaling each
 *       tensor in place through the direct buffer over its memory with gradclip-core's SIMD kernels;
 *       closing every NDArray it creates, and summing gradients held on several devices (its jobs
 *       live in {@code dev.gradclip.djl.internal}, not public API);</li>
 *   <li>{@link dev.gradclip.djl.GradientClipListener}: a {@code TrainingListener} for
 *       {@code EasyTrain.fit}, clipping in {@code onTrainingBatch} (after backward, before
 *       {@code trainer.step()});</li>
 *   <li>{@link dev.gradclip.djl.ClippedTrainer}: a training loop that can truly skip a step
 *       (parameters and optimizer state untouched), which {@code EasyTrain} cannot;</li>
 *   <li>{@link dev.gradclip.djl.ClipMetrics}: clip reports as DJL metrics;</li>
 *   <li>{@link dev.gradclip.djl.DjlNesterov} and {@link dev.gradclip.djl.DjlRmsProp}: PyTorch's
 *       Nesterov momentum and RMSprop (plain, centered, with momentum) as DJL optimizers written with
 *       plain NDArray operations, for engines (DJL 0.36's PyTorch engine among them) whose native
 *       {@code Nag} and {@code RmsProp} updates are not implemented; both implement
 *       {@link dev.gradclip.djl.GradientScaleFolding}, through which {@code ClippedTrainer} folds a
 *       clipper's scaling into their update instead of writing it into the gradients;</li>
 *   <li>{@link dev.gradclip.djl.DjlTrainingState}: a trainer's parameters and optimizer state, saved
 *       and restored bit for bit.</li>
 * </ul>
 * The clippers' decision logic is gradclip-core's, unchanged: a backend supplies only primitives.
 *
 * <p>Depends on DJL's API only and runs on any DJL engine: add the engine (and, to run offline, its
 * native library for your platform) to your project. It is tested on DJL's PyTorch engine for CPU
 * offline ({@code -Dai.djl.offline=true}, native library from the {@code pytorch-native-cpu} jar).
 *
 * <p>The package {@code dev.gradclip.lab.sequence} holds the training workloads of the {@code gradclip}
 * command and benchmarks; it is not part of the library's API.
 */
package dev.gradclip.djl;
