/**
 * gradclip's lab: the training workloads of the {@code gradclip} command and the benchmarks, and
 * the readers of their datasets. Not part of the library's API and not published.
 *
 * <ul>
 *   <li>{@link dev.gradclip.lab.sequence}: the Pascanu et al. 2013 sequence tasks (arXiv:1211.5063)
 *       and the tanh RNN that learns them;</li>
 *   <li>{@link dev.gradclip.lab.fashion}: Fashion-MNIST's IDX files and the MLP that classifies
 *       them;</li>
 *   <li>{@link dev.gradclip.lab.text}: a text corpus (Debian's fortunes or a file) and the LSTM
 *       character language model trained on it.</li>
 * </ul>
 * Every workload trains through gradclip-djl's {@link dev.gradclip.djl.ClippedTrainer}, the one
 * place where a DJL training step (forward and backward, clip, update or skip) is written. A
 * dataset that cannot be used is a {@link dev.gradclip.lab.DatasetException}.
 */
package dev.gradclip.lab;
