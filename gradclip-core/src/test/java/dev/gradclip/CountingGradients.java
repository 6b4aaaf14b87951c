package dev.gradclip;

/**
 * A {@link Gradients} backend that is not a {@link GradientSet}: it delegates every primitive to one
 * and counts the read passes, so tests can check that clippers use only the interface and how many
 * passes they make.
 */
final class CountingGradients implements Gradients {

    private final GradientSet d;
    int normPasses;
    int scalePasses;

    CountingGradients(GradientSet delegate) {
        this.d = delegate;
    }

    @Override
    public int tensorCount() {
        return d.tensorCount();
    }

    @Override
    public String name(int tensor) {
        return d.name(tensor);
    }

    @Override
    public String group(int tensor) {
        return d.group(tensor);
    }

    @Override
    public long[] shape(int tensor) {
        return d.shape(tensor);
    }

    @Override
    public long size(int tensor) {
        return d.size(tensor);
    }

    @Override
    public boolean hasParameter(int tensor) {
        return d.hasParameter(tensor);
    }

    @Override
    public void norms(double p, double[] out) {
        normPasses++;
        d.norms(p, out);
    }

    @Override
    public long nonFiniteCount(int tensor) {
        return d.nonFiniteCount(tensor);
    }

    @Override
    public long firstNonFinite(int tensor) {
        return d.firstNonFinite(tensor);
    }

    @Override
    public float get(int tensor, long index) {
        return d.get(tensor, index);
    }

    @Override
    public void set(int tensor, long index, float value) {
        d.set(tensor, index, value);
    }

    @Override
    public long zeroNonFinite(int tensor) {
        return d.zeroNonFinite(tensor);
    }

    @Override
    public void scale(int tensor, double factor) {
        scalePasses++;
        d.scale(tensor, factor);
    }

    @Override
    public long clamp(int tensor, double limit) {
        return d.clamp(tensor, limit);
    }

    @Override
    public int unitCount(int tensor) {
        return d.unitCount(tensor);
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        d.unitNorms(tensor, parameter, out);
    }

    @Override
    public void scaleUnits(int tensor, double[] factors) {
        d.scaleUnits(tensor, factors);
    }
}
