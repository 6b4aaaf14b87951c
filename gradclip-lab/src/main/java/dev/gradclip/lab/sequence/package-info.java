/**
 * Training workloads where gradients explode, driven step by step: the Pascanu et al. 2013
 * sequence tasks ({@link dev.gradclip.lab.sequence.SequenceTask}: adding, multiplication, temporal
 * order; arXiv:1211.5063) and a tanh RNN that learns them ({@link dev.gradclip.lab.sequence.RnnWorkload}
 * with {@link dev.gradclip.lab.sequence.RnnInit}). Used by the {@code gradclip} command and the
 * benchmarks (the native-memory soak check, {@code SoakRun}, is in this module's test sources).
 */
package dev.gradclip.lab.sequence;
