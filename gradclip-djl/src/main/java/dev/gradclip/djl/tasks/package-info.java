/**
 * Training workloads where gradients explode, driven step by step: the Pascanu et al. 2013
 * sequence tasks ({@link dev.gradclip.djl.tasks.SequenceTask}: adding, multiplication, temporal
 * order; arXiv:1211.5063) and a tanh RNN that learns them ({@link dev.gradclip.djl.tasks.RnnWorkload}
 * with {@link dev.gradclip.djl.tasks.RnnInit}), plus the native-memory soak check
 * ({@link dev.gradclip.djl.tasks.SoakRun}). Used by the {@code gradclip} command and the benchmarks.
 */
package dev.gradclip.djl.tasks;
