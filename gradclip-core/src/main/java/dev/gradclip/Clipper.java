package dev.gradclip;

/**
 * A gradient-clipping method: given the gradients of one step, clip them in place and report what
 * was done.
 *
 * <p>Clipping acts on the raw gradient, before weight decay and the optimizer, as in every major
 * framework. A clipper may keep statistics across steps (adaptive thresholds); such state is
 * explicit: {@link #saveState()} and {@link #restoreState(byte[])} round-trip it exactly, so a run
 * restored at step k continues bit-identically. Stateless clippers save an empty state.
 *
 * <p>Implementations are created through {@link Clippers}. They are not thread-safe; use one per
 * training loop.
 */
public interface Clipper {

    /**
     * Clips the gradients in place.
     *
     * @param gradients the gradients of one step
     * @return what was done; when {@link ClipReport#skipped()} is true the gradients are untouched and
     *         the caller must not apply the step
     * @throws NonFiniteGradientException under {@link NonFinitePolicy#THROW} when a gradient holds NaN
     *                                    or an infinity (the gradients are then untouched)
     */
    ClipReport clip(Gradients gradients);

    /** @return the method's name as used in reports and specs, e.g. {@code "global-norm"} */
    String method();

    /** @return what this clipper does with NaN and infinite gradients */
    NonFinitePolicy nonFinitePolicy();

    /**
     * Returns a clipper with the same settings (and fresh statistics) but another non-finite policy.
     *
     * @param policy the policy
     * @return the new clipper
     */
    Clipper withNonFinitePolicy(NonFinitePolicy policy);

    /**
     * Serialises the clipper's statistics (for checkpoints).
     *
     * @return the state; empty for stateless clippers
     */
    default byte[] saveState() {
        return new byte[0];
    }

    /**
     * Restores statistics saved by {@link #saveState()} of a clipper built with the same settings.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if the state does not belong to this kind of clipper
     */
    default void restoreState(byte[] state) {
        if (state.length != 0) {
            throw new IllegalArgumentException(method() + " is stateless but was given " + state.length
                    + " bytes of state; restore the state into the clipper that saved it");
        }
    }
}
