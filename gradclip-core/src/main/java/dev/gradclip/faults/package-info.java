/**
 * Reproducible fault injection for any {@link dev.gradclip.Gradients} backend:
 * {@link dev.gradclip.faults.FaultInjector} puts NaN or infinite values and spikes into gradients at
 * given rates, seeded per step; {@link dev.gradclip.faults.FaultTally} counts what was injected and
 * how each fault was handled (skipped, zeroed, clipped, ...).
 */
package dev.gradclip.faults;
