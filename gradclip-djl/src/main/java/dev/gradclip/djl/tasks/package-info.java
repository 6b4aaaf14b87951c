/**
 * Training workloads where gradients explode, driven step by step: the Pascanu et al. 2013
 * sequence tasks ({@link dev.gradclip.djl.tasks.SequenceTask}: adding, multiplication, temporal
 * order; arXiv:1211.5063) and a tanh RNN that learns them ({@link dev.gradclip.djl.tasks.RnnWorkload}
 * with {@link dev.gradclip.djl.tasks.RnnInit}). Used by the {@code gradclip} command and the
 * benchmarks (the native-memory soak check, {@code SoakRun}, is in this module's test sources).
 *
 * <p>Not part of gradclip's library API: these workloads may move to a module of their own.
 */
package dev.gradclip.djl.tasks;
