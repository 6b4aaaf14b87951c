package dev.gradclip.internal;

import dev.gradclip.ClampResult;
import dev.gradclip.Gradients;
import java.util.Arrays;
import java.util.Objects;

/**
 * A view of some {@link Gradients} that records a clipper's {@link #scale(int, double) scale} of a
 * tensor instead of writing it, so that an optimizer can apply the factor inside its own update pass
 * ({@code dev.gradclip.optim.TrainingStep}'s fused update): clip-then-update then reads the gradient
 * once for the norm and once for the update, and never writes it.
 *
 * <p>What the optimizer must compute for element {@code g} of tensor {@code t}: the float product
 * {@code factor(t) * g}, exactly what {@link FloatKernels#scale} writes for a factor that
 * {@link ScaleSteps} applies in one step (one IEEE float multiplication, the same in every kernel),
 * so the fused result is bit for bit that of scaling first. Factors that need several steps
 * (outside the normal float range) are not deferred: they are written at once, and the tensor has
 * no pending factor.
 *
 * <p>The view stays exact for any clipper, whatever it does after scaling: every other primitive
 * that reads or writes a tensor's gradient (norms, the non-finite scans, {@code get}, {@code set},
 * clamping, unit norms and unit scaling) first writes the tensor's pending factor, and a second
 * {@code scale} of the same tensor writes the first before it records the second. So the
 * gradients seen through the view are always those the clipper would see on the delegate. Not
 * public API; not thread-safe.
 */
public final class DeferredScaling implements Gradients {

    private final Gradients delegate;
    /** Per tensor, the pending factor, or 1 when none. */
    private final float[] factors;
    private final boolean[] pending;
    private int pendingCount;

    /**
     * @param delegate the gradients that pending factors are eventually applied to
     */
    public DeferredScaling(Gradients delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        int n = delegate.tensorCount();
        this.factors = new float[n];
        this.pending = new boolean[n];
        Arrays.fill(factors, 1f);
    }

    /** @return whether some tensor has a factor not yet written */
    public boolean hasPending() {
        return pendingCount > 0;
    }

    /**
     * The factor the optimizer must multiply each gradient element by, as a float, per tensor.
     *
     * @return one factor per tensor ({@code 1} where nothing is pending), a new array; {@code null}
     *         when nothing is pending at all
     */
    public float[] pendingFactors() {
        return pendingCount == 0 ? null : factors.clone();
    }

    /**
     * Writes every pending factor into the delegate, as the clipper's own {@code scale} would have,
     * and forgets them: afterwards the delegate holds what clipping without deferral leaves.
     */
    public void applyPending() {
        for (int t = 0; t < factors.length && pendingCount > 0; t++) {
            apply(t);
        }
    }

    private void apply(int tensor) {
        if (pending[tensor]) {
            float f = factors[tensor];
            pending[tensor] = false;
            factors[tensor] = 1f;
            pendingCount--;
            delegate.scale(tensor, f);
        }
    }

    @Override
    public int tensorCount() {
        return delegate.tensorCount();
    }

    @Override
    public String name(int tensor) {
        return delegate.name(tensor);
    }

    @Override
    public String group(int tensor) {
        return delegate.group(tensor);
    }

    @Override
    public long[] shape(int tensor) {
        return delegate.shape(tensor);
    }

    @Override
    public long size(int tensor) {
        return delegate.size(tensor);
    }

    @Override
    public boolean hasParameter(int tensor) {
        return delegate.hasParameter(tensor);
    }

    @Override
    public void norms(double p, double[] out) {
        applyPending();
        delegate.norms(p, out);
    }

    @Override
    public long nonFiniteCount(int tensor) {
        apply(tensor);
        return delegate.nonFiniteCount(tensor);
    }

    @Override
    public long firstNonFinite(int tensor) {
        apply(tensor);
        return delegate.firstNonFinite(tensor);
    }

    @Override
    public float get(int tensor, long index) {
        apply(tensor);
        return delegate.get(tensor, index);
    }

    @Override
    public void set(int tensor, long index, float value) {
        apply(tensor);
        delegate.set(tensor, index, value);
    }

    @Override
    public long zeroNonFinite(int tensor) {
        apply(tensor);
        return delegate.zeroNonFinite(tensor);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: records {@code (float) factor} for the tensor instead of writing it, when
     * {@link ScaleSteps#of(double)} applies the factor in one step; otherwise writes it now. A factor
     * already pending for the tensor is written first.
     */
    @Override
    public void scale(int tensor, double factor) {
        apply(tensor);
        ScaleSteps s = ScaleSteps.of(factor);
        if (!s.single()) {
            delegate.scale(tensor, factor);
            return;
        }
        factors[tensor] = s.factor();
        pending[tensor] = true;
        pendingCount++;
    }

    @Override
    public long clamp(int tensor, double limit) {
        apply(tensor);
        return delegate.clamp(tensor, limit);
    }

    @Override
    public long clampAndMeasure(int tensor, double limit, double[] normAfter) {
        apply(tensor);
        return delegate.clampAndMeasure(tensor, limit, normAfter);
    }

    @Override
    public boolean clampsInOnePass() {
        return delegate.clampsInOnePass();
    }

    @Override
    public ClampResult[] clampInOnePass(double limit, boolean zeroNonFinite) {
        applyPending();
        return delegate.clampInOnePass(limit, zeroNonFinite);
    }

    @Override
    public int unitCount(int tensor) {
        return delegate.unitCount(tensor);
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        if (!parameter) {
            apply(tensor);
        }
        delegate.unitNorms(tensor, parameter, out);
    }

    @Override
    public void scaleUnits(int tensor, double[] factors) {
        apply(tensor);
        delegate.scaleUnits(tensor, factors);
    }

    @Override
    public String toString() {
        return "DeferredScaling[" + delegate + ", " + pendingCount + " pending]";
    }
}
