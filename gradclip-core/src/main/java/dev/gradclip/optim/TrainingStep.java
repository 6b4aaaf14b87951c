package dev.gradclip.optim;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.internal.DeferredScaling;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;
import java.util.Objects;

/**
 * One training update: clip the gradients, then, unless the clipper asks to skip, apply the
 * optimizer; the composition of Optax's {@code chain(clip, optimizer)} with
 * {@code apply_if_finite}, as one object with explicit, saveable state.
 *
 * <pre>{@code
 * TrainingStep step = TrainingStep.of(
 *         Clippers.spikeGuard(Clippers.zClip()).withNonFinitePolicy(NonFinitePolicy.SKIP),
 *         Optimizers.adamW(1e-3));
 * for (...) {
 *     computeGradients(params, grads);             // fills the arrays of the set
 *     StepReport r = step.update(set);             // set pairs each gradient with its parameter
 *     if (r.skipped()) log(r.clip());
 * }
 * byte[] checkpoint = step.saveState();            // clipper statistics, moments, counters
 * }</pre>
 *
 * <p>Guarantees: a skipped step (non-finite gradients under {@code SKIP}, or a spike guard) leaves
 * the parameters, the optimizer state (moments, step counter, hence the schedule position) and the
 * clipper's statistics exactly as they were; a step that throws (non-finite gradients under
 * {@code THROW}, bad arguments) changes nothing either. {@link #saveState()} and
 * {@link #restoreState(byte[])} capture everything, so a run restored at step k continues bit for
 * bit as one never interrupted. Under {@code PROPAGATE} non-finite gradients reach the optimizer and
 * the parameters, as in an unguarded framework (the policy exists to reproduce that); every other
 * policy keeps NaN out of the parameters. Not thread-safe.
 *
 * <p><b>Fused scaling.</b> By default ({@link #fused()}) the factor a clipper multiplies a tensor by
 * (the coefficient of global-norm, AutoClip, ZClip, scheduled and spike-guarded clipping, and the
 * per-tensor and per-group factors of norm clipping) is not written into the gradient: it is applied
 * inside the optimizer's update pass, each element's gradient being the float product
 * {@code c * g}, exactly what the clipper's in-place scaling writes. Clip-then-update then reads
 * the gradients once for the norms and once for the update, and never writes them; the parameters,
 * the optimizer's moments, the clipper's statistics and the report are bit for bit those of the
 * unfused path (clip in place, then step). What differs is what the gradient arrays hold after an
 * applied step: the raw gradients given, not the clipped ones (the clipped gradient is
 * {@code report.coefficient()} times them for a global clip). Anything else a clipper writes
 * (value clamping, AGC's unit factors, zeroed non-finite entries, factors outside the normal float
 * range) is written in place as before, and a skipped step or one that throws leaves the gradients
 * as the unfused path does. Fusion needs an optimizer of {@link Optimizers}; with any other
 * {@link Optimizer}, and with {@link #withFusion(boolean) withFusion(false)}, the step clips in
 * place and then steps.
 */
public final class TrainingStep {

    private static final String KIND = "training-step";
    private static final int STATE_VERSION = 1;

    private final Clipper clipper;
    private final Optimizer optimizer;
    private final boolean fused;
    private long calls;
    private long skipped;
    private long clipped;

    private TrainingStep(Clipper clipper, Optimizer optimizer, boolean fused) {
        this.clipper = Objects.requireNonNull(clipper, "clipper");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.fused = fused;
    }

    /**
     * Chains a clipper and an optimizer.
     *
     * @param clipper   the clipper, applied to the raw gradients first (possibly a spike guard)
     * @param optimizer the optimizer
     * @return the step, with fresh counters (the clipper and optimizer keep their own state)
     */
    public static TrainingStep of(Clipper clipper, Optimizer optimizer) {
        return new TrainingStep(clipper, optimizer, true);
    }

    /**
     * An optimizer alone, with {@link Clippers#none()}: norms are still measured and reported, and
     * non-finite gradients still throw.
     *
     * @param optimizer the optimizer
     * @return the step
     */
    public static TrainingStep of(Optimizer optimizer) {
        return new TrainingStep(Clippers.none(), optimizer, true);
    }

    /**
     * A step over the same clipper and optimizer (shared, not copied), with fresh counters, that
     * fuses the clipper's scaling into the optimizer's update or not (see the class comment).
     *
     * @param fused {@code true} (the default of {@link #of}) to apply a clipper's per-tensor factors
     *              inside the update pass, leaving the gradient arrays unscaled; {@code false} to
     *              scale the gradients in place and then step
     * @return the step
     */
    public TrainingStep withFusion(boolean fused) {
        return new TrainingStep(clipper, optimizer, fused);
    }

    /**
     * @return whether the clipper's scaling is applied inside the optimizer's update pass (only
     *         effective with an optimizer of {@link Optimizers}; see the class comment)
     */
    public boolean fused() {
        return fused;
    }

    /**
     * Clips the gradients of the set and, unless the clipper asks to skip, updates the parameters of
     * the set. When {@link #fused()}, a clipper's scaling is applied inside the update and the
     * gradient arrays keep the values given; otherwise they are clipped in place (see the class
     * comment; the parameters, the state and the report are the same either way).
     *
     * @param set gradients paired with their parameters (every tensor needs its parameter values)
     * @return what was done
     * @throws IllegalArgumentException   if a tensor has no parameter values, or the shapes differ
     *                                    from earlier steps (nothing is changed then)
     * @throws IllegalStateException      if the learning-rate schedule gives a negative or non-finite
     *                                    rate (nothing is changed then)
     * @throws NonFiniteGradientException under {@code THROW} for NaN or infinite gradients (nothing
     *                                    is changed then)
     */
    public StepReport update(GradientSet set) {
        Objects.requireNonNull(set, "set");
        float[][] params = set.parameters();
        float[][] grads = set.gradients();
        // the optimizer's checks run before the clipper changes gradients or statistics, so a step
        // the optimizer would refuse changes nothing at all
        AbstractOptimizer own = optimizer instanceof AbstractOptimizer a ? a : null;
        if (own != null) {
            own.check(params, grads);
        }
        DeferredScaling deferred = fused && own != null ? new DeferredScaling(set) : null;
        ClipReport report;
        try {
            report = clipper.clip(deferred == null ? set : deferred);
        } catch (RuntimeException | Error e) {
            // leave the gradients as clipping in place would have (clippers throw before scaling)
            applyPending(deferred);
            throw e;
        }
        long step = calls++;
        if (report.skipped()) {
            applyPending(deferred);
            skipped++;
            return new StepReport(step, false, Double.NaN, optimizer.stepCount(), report);
        }
        double lr = optimizer.learningRate();
        if (deferred != null) {
            own.step(params, grads, deferred.pendingFactors());
        } else {
            optimizer.step(params, grads);
        }
        if (report.clipped()) {
            clipped++;
        }
        return new StepReport(step, true, lr, optimizer.stepCount(), report);
    }

    private static void applyPending(DeferredScaling deferred) {
        if (deferred != null) {
            deferred.applyPending();
        }
    }

    /**
     * {@link #update(GradientSet)} on plain arrays, tensor {@code i} named {@code parameters[i]}.
     *
     * @param parameters the parameter tensors, updated in place
     * @param gradients  their gradients, same count and lengths; clipped in place unless the scaling
     *                   is {@link #fused()}
     * @return what was done
     * @throws IllegalArgumentException   if counts or lengths differ
     * @throws NonFiniteGradientException under {@code THROW} for NaN or infinite gradients
     */
    public StepReport update(float[][] parameters, float[][] gradients) {
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(gradients, "gradients");
        if (parameters.length != gradients.length) {
            throw new IllegalArgumentException("got " + parameters.length + " parameter tensors but "
                    + gradients.length + " gradient tensors");
        }
        GradientSet.Builder b = GradientSet.builder();
        for (int i = 0; i < parameters.length; i++) {
            float[] p = Objects.requireNonNull(parameters[i], "parameters[" + i + "]");
            float[] g = Objects.requireNonNull(gradients[i], "gradients[" + i + "]");
            b.add("parameters[" + i + "]", g, p, g.length);
        }
        return update(b.build());
    }

    /** @return the clipper */
    public Clipper clipper() {
        return clipper;
    }

    /** @return the optimizer */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** @return the number of {@link #update} calls that returned, applied or skipped */
    public long calls() {
        return calls;
    }

    /** @return the number of steps skipped */
    public long skippedSteps() {
        return skipped;
    }

    /** @return the number of applied steps whose gradients were clipped */
    public long clippedSteps() {
        return clipped;
    }

    /**
     * Serialises the counters, the clipper's statistics and the optimizer's state.
     *
     * @return the state
     */
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION)
                .writeLong(calls).writeLong(skipped).writeLong(clipped)
                .writeBytes(clipper.saveState())
                .writeBytes(optimizer.saveState())
                .toByteArray();
    }

    /**
     * Restores a state saved by {@link #saveState()} of a step built with the same clipper and
     * optimizer settings. On failure nothing changes.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if the state is corrupt or belongs to other settings
     */
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        long newCalls = r.readLong();
        long newSkipped = r.readLong();
        long newClipped = r.readLong();
        byte[] clipperState = r.readBytes();
        byte[] optimizerState = r.readBytes();
        r.finish();
        if (newCalls < 0 || newSkipped < 0 || newClipped < 0 || newSkipped > newCalls) {
            throw new IllegalArgumentException(KIND + " state is corrupt: counters " + newCalls + ", " + newSkipped
                    + ", " + newClipped);
        }
        byte[] clipperBefore = clipper.saveState();
        clipper.restoreState(clipperState);
        try {
            optimizer.restoreState(optimizerState);
        } catch (RuntimeException e) {
            clipper.restoreState(clipperBefore);
            throw e;
        }
        calls = newCalls;
        skipped = newSkipped;
        clipped = newClipped;
    }

    @Override
    public String toString() {
        return "TrainingStep(" + clipper + " -> " + optimizer + (fused ? "" : ", unfused") + ")";
    }
}
