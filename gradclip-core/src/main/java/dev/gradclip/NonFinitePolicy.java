package dev.gradclip;

/**
 * What a clipper does when a gradient holds NaN or an infinity.
 *
 * <p>Every clipper checks for non-finite values in the same pass that measures the norm (a norm of
 * finite floats accumulated in {@code double} is always finite, so a non-finite norm is the signal),
 * and only then scans the offending tensor for the first bad element. The report of every call
 * counts the non-finite elements and names the first offending tensor, whatever the policy.
 *
 * <p>Background: PyTorch's {@code clip_grad_norm_} is silent by default (an infinite norm gives a
 * coefficient of 0, so finite entries become 0 and infinite ones NaN) and raises only with
 * {@code error_if_nonfinite=True}; TensorFlow's {@code clip_by_global_norm} turns every output into
 * NaN on purpose; Optax offers {@code zero_nans} and {@code apply_if_finite}; DeepSpeed and Megatron
 * skip the step and count it. Users asked for the offending parameter's name (pytorch#46849).
 */
public enum NonFinitePolicy {
    /**
     * Throw a {@link NonFiniteGradientException} naming the first offending tensor and element
     * index; the gradients are left untouched. The default.
     */
    THROW,
    /**
     * Leave the gradients untouched and return a report whose {@link ClipReport#skipped()} is
     * {@code true}: the caller must not apply this step (parameters and optimizer state stay as they
     * were).
     */
    SKIP,
    /**
     * Replace every non-finite entry with 0, then measure and clip the now finite gradients as
     * usual. Finite entries are never changed by this replacement.
     */
    ZERO,
    /**
     * Do what the frameworks do by default and let the non-finite values flow: a NaN norm gives a
     * NaN coefficient and an infinite norm a coefficient of 0 (PyTorch's semantics), so every entry
     * becomes NaN or 0. Only for reproducing other frameworks; the report still counts the
     * non-finite entries.
     */
    PROPAGATE
}
