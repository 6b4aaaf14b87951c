package dev.gradclip;

import java.util.Objects;

/**
 * The part of a model's gradients that one worker holds: its own tensors, each held whole, and where
 * they sit in the model's {@link TensorLayout}. A {@linkplain Clippers#sharded(Clipper, NormExchange)
 * sharded clipper} clips a shard as the single-machine clipper would clip the whole model, writing
 * only this worker's tensors.
 *
 * <p>As {@link Gradients}, a shard is its local tensors, numbered {@code 0 .. tensorCount()-1}; every
 * primitive goes to the local gradients. A clipper that is not sharded refuses a shard (it would
 * clip by this worker's norm alone), so a missing {@code Clippers.sharded} is an error rather than
 * a silently different clip.
 *
 * <pre>{@code
 * TensorLayout model = TensorLayout.of(wholeModelGradients);   // or built from the names and groups
 * GradientShard mine = GradientShard.of(localGradients, model); // tensors found by name
 * }</pre>
 */
public final class GradientShard implements Gradients {

    private final Gradients local;
    private final TensorLayout layout;
    private final int[] globalIndex;
    private final int[] localIndex;

    private GradientShard(Gradients local, TensorLayout layout, int[] globalIndex) {
        this.local = local;
        this.layout = layout;
        this.globalIndex = globalIndex;
        this.localIndex = new int[layout.tensorCount()];
        java.util.Arrays.fill(localIndex, -1);
        for (int t = 0; t < globalIndex.length; t++) {
            localIndex[globalIndex[t]] = t;
        }
    }

    /**
     * A shard whose tensors are found in the layout by name. A worker may hold no tensor at all; it
     * still takes part in every exchange.
     *
     * @param local  this worker's gradients, in any order
     * @param layout the whole model's tensors
     * @return the shard
     * @throws IllegalArgumentException if a local tensor's name is not in the layout, or its group is
     *                                  not the layout's group for that name
     */
    public static GradientShard of(Gradients local, TensorLayout layout) {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(layout, "layout");
        int[] global = new int[local.tensorCount()];
        for (int t = 0; t < global.length; t++) {
            int i = layout.indexOf(local.name(t));
            if (i < 0) {
                throw new IllegalArgumentException("tensor '" + local.name(t) + "' is not in the model's layout of "
                        + layout.tensorCount() + " tensors; build the layout from every tensor of the model");
            }
            if (!layout.groups().get(i).equals(local.group(t))) {
                throw new IllegalArgumentException("tensor '" + local.name(t) + "' is in group '" + local.group(t)
                        + "' here but in group '" + layout.groups().get(i) + "' in the layout");
            }
            global[t] = i;
        }
        return new GradientShard(local, layout, global);
    }

    /** @return this worker's gradients */
    public Gradients local() {
        return local;
    }

    /** @return the whole model's tensors */
    public TensorLayout layout() {
        return layout;
    }

    /**
     * @param tensor a local tensor number
     * @return its index in the layout
     */
    public int globalIndex(int tensor) {
        return globalIndex[tensor];
    }

    /**
     * @param globalIndex an index in the layout
     * @return the local tensor number of that tensor, or -1 if another worker holds it
     */
    public int localIndex(int globalIndex) {
        return localIndex[globalIndex];
    }

    @Override
    public int tensorCount() {
        return local.tensorCount();
    }

    @Override
    public String name(int tensor) {
        return local.name(tensor);
    }

    @Override
    public String group(int tensor) {
        return local.group(tensor);
    }

    @Override
    public long[] shape(int tensor) {
        return local.shape(tensor);
    }

    @Override
    public long size(int tensor) {
        return local.size(tensor);
    }

    @Override
    public boolean hasParameter(int tensor) {
        return local.hasParameter(tensor);
    }

    @Override
    public void norms(double p, double[] out) {
        local.norms(p, out);
    }

    @Override
    public long nonFiniteCount(int tensor) {
        return local.nonFiniteCount(tensor);
    }

    @Override
    public long firstNonFinite(int tensor) {
        return local.firstNonFinite(tensor);
    }

    @Override
    public float get(int tensor, long index) {
        return local.get(tensor, index);
    }

    @Override
    public void set(int tensor, long index, float value) {
        local.set(tensor, index, value);
    }

    @Override
    public long zeroNonFinite(int tensor) {
        return local.zeroNonFinite(tensor);
    }

    @Override
    public void scale(int tensor, double factor) {
        local.scale(tensor, factor);
    }

    @Override
    public long clamp(int tensor, double limit) {
        return local.clamp(tensor, limit);
    }

    @Override
    public long clampAndMeasure(int tensor, double limit, double[] normAfter) {
        return local.clampAndMeasure(tensor, limit, normAfter);
    }

    @Override
    public int unitCount(int tensor) {
        return local.unitCount(tensor);
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        local.unitNorms(tensor, parameter, out);
    }

    @Override
    public void scaleUnits(int tensor, double[] factors) {
        local.scaleUnits(tensor, factors);
    }

    @Override
    public String toString() {
        return "GradientShard(" + globalIndex.length + " of " + layout.tensorCount() + " tensors)";
    }
}
