package dev.gradclip.faults;

/**
 * What {@link FaultInjector#inject(long, dev.gradclip.Gradients)} did to the gradients of one step.
 *
 * @param step              the step
 * @param nonFiniteTensor   the tensor that received a non-finite value, or -1 if none did
 * @param nonFiniteName     that tensor's name, or {@code null}
 * @param nonFiniteIndex    the flat index of the element overwritten, or -1
 * @param nonFiniteValue    the value written: NaN, +∞ or −∞ (0 when none)
 * @param spiked            whether a spike was injected
 * @param spikeTensor       the tensor multiplied, or -1 when every tensor was (or none)
 * @param spikeName         that tensor's name, {@code "*"} for all tensors, or {@code null}
 * @param spikeScale        the factor applied (1 when none)
 */
public record Injection(
        long step,
        int nonFiniteTensor,
        String nonFiniteName,
        long nonFiniteIndex,
        float nonFiniteValue,
        boolean spiked,
        int spikeTensor,
        String spikeName,
        double spikeScale) {

    /**
     * Nothing injected at {@code step}.
     *
     * @param step the step
     * @return the empty injection
     */
    public static Injection none(long step) {
        return new Injection(step, -1, null, -1, 0f, false, -1, null, 1.0);
    }

    /** @return whether a NaN or an infinity was written */
    public boolean hasNonFinite() {
        return nonFiniteTensor >= 0;
    }

    /** @return whether anything was injected */
    public boolean any() {
        return hasNonFinite() || spiked;
    }

    /** A one-line description, e.g. {@code step 12: NaN at 'fc1.weight'[40]; spike x100 on '*'}. */
    @Override
    public String toString() {
        if (!any()) {
            return "step " + step + ": nothing injected";
        }
        StringBuilder sb = new StringBuilder("step ").append(step).append(": ");
        if (spiked) {
            sb.append("spike x").append(spikeScale).append(" on '").append(spikeName).append('\'');
        }
        if (hasNonFinite()) {
            sb.append(spiked ? "; " : "").append(nonFiniteValue).append(" at '").append(nonFiniteName)
                    .append("'[").append(nonFiniteIndex).append(']');
        }
        return sb.toString();
    }
}
