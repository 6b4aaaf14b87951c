package dev.gradclip;

import dev.gradclip.AbstractClipper.NonFinite;

/**
 * One sharded clip's measurements: this worker's per-tensor norms and non-finite scan, exchanged
 * into the whole model's per-tensor norm vector in global order, and the view of the whole model
 * that the clipper's rule runs on.
 *
 * <p>The contribution of a worker holding {@code k} tensors is {@code 5 + 2k} doubles:
 * <pre>
 *   [0]            k
 *   [1]            the number of NaN and infinite elements in its tensors with a non-finite norm
 *   [2]            the lowest global index among those tensors, or -1
 *   [3], [4]       the first non-finite element of that tensor and its value (-1 and 0 if none)
 *   [5, 5+k)       the global indices of its tensors
 *   [5+k, 5+2k)    their norms
 * </pre>
 * Integers up to 2^53 are exact in a double, and a float widened to double and narrowed back is the
 * same float, so the payload carries every value exactly.
 */
final class ShardedMeasurement {

    private static final int HEADER = 5;

    private final GradientShard shard;
    private final NormExchange exchange;
    private final double[] localNorms;
    private final double[] before;
    private final double[] scratch;
    private final View view = new View();
    private NonFinite nonFinite;

    ShardedMeasurement(GradientShard shard, NormExchange exchange) {
        this.shard = shard;
        this.exchange = exchange;
        this.localNorms = new double[shard.tensorCount()];
        this.before = new double[shard.layout().tensorCount()];
        this.scratch = new double[localNorms.length];
    }

    /** @return the whole model as the clipper's rule sees it: writes reach only local tensors */
    Gradients view() {
        return view;
    }

    /**
     * @return what the first exchange found about non-finite values, the same on every worker: the
     *         total count, and the first offending element of the lowest-numbered offending tensor
     */
    NonFinite nonFinite() {
        return nonFinite;
    }

    /**
     * Measures this worker's tensors, exchanges, and fills {@code out} with every tensor's norm in
     * global order: exactly the vector a single machine would measure, since each norm is measured by
     * the same per-tensor primitive on the same values.
     *
     * @param p   the norm type
     * @param out receives one norm per tensor of the layout
     */
    void measure(double p, double[] out) {
        Gradients local = shard.local();
        local.norms(p, localNorms);
        double[][] all = exchange.allGather(contribution(local));
        combine(all, out);
        System.arraycopy(out, 0, before, 0, out.length);
    }

    private double[] contribution(Gradients local) {
        int k = localNorms.length;
        double[] c = new double[HEADER + 2 * k];
        long count = 0;
        int first = -1;
        int firstLocal = -1;
        for (int t = 0; t < k; t++) {
            c[HEADER + t] = shard.globalIndex(t);
            c[HEADER + k + t] = localNorms[t];
            if (!Double.isFinite(localNorms[t])) {
                count += local.nonFiniteCount(t);
                int g = shard.globalIndex(t);
                if (first < 0 || g < first) {
                    first = g;
                    firstLocal = t;
                }
            }
        }
        long index = firstLocal < 0 ? -1 : local.firstNonFinite(firstLocal);
        c[0] = k;
        c[1] = count;
        c[2] = first;
        c[3] = index;
        c[4] = firstLocal < 0 ? 0f : index >= 0 ? local.get(firstLocal, index) : Float.NaN;
        return c;
    }

    private void combine(double[][] all, double[] out) {
        TensorLayout layout = shard.layout();
        int n = layout.tensorCount();
        int[] holders = new int[n];
        long count = 0;
        int first = -1;
        long index = -1;
        float value = 0f;
        if (all == null) {
            throw new IllegalStateException("the norm exchange returned null; it must return every worker's array");
        }
        for (double[] c : all) {
            int k = c == null || c.length < HEADER ? -1 : (int) c[0];
            if (k < 0 || c[0] != k || c.length != HEADER + 2 * k) {
                throw new IllegalStateException("the norm exchange returned an array that no worker sent"
                        + " (length " + (c == null ? "null" : c.length) + "); it must return every worker's array"
                        + " bit for bit");
            }
            if (c[2] >= 0) {
                count += (long) c[1];
                int g = (int) c[2];
                if (first < 0 || g < first) {
                    first = g;
                    index = (long) c[3];
                    value = (float) c[4];
                }
            }
            for (int i = 0; i < k; i++) {
                int g = (int) c[HEADER + i];
                if (g < 0 || g >= n || c[HEADER + i] != g) {
                    throw new IllegalStateException("a worker sent a norm for tensor " + c[HEADER + i]
                            + ", outside the layout of " + n + " tensors; every worker must use the same layout");
                }
                holders[g]++;
                out[g] = c[HEADER + k + i];
            }
        }
        // checked in global order, so that every worker names the same tensor whatever order it received
        for (int g = 0; g < n; g++) {
            if (holders[g] > 1) {
                throw new IllegalStateException("tensor '" + layout.names().get(g) + "' is held by " + holders[g]
                        + " workers; each tensor must be held whole by exactly one");
            }
            if (holders[g] == 0) {
                throw new IllegalStateException("tensor '" + layout.names().get(g) + "' is held by no worker"
                        + " (or the exchange lost a worker's array); each tensor must be held by exactly one");
            }
        }
        if (nonFinite == null) {
            nonFinite = first < 0 ? NonFinite.NONE : new NonFinite(count, layout.names().get(first), index, value);
        }
    }

    /**
     * The whole model seen from one worker: names and groups from the layout, every read and write
     * of a local tensor passed to the shard, a write to another worker's tensor skipped (its owner
     * makes it). A remote tensor has no units, and its norm "after" a value clip is its norm before,
     * so value clipping and AGC report only this worker's changes.
     */
    private final class View implements Gradients {

        private int local(int tensor) {
            return shard.localIndex(tensor);
        }

        /** The local number of a tensor this worker must hold for the call to make sense. */
        private int owned(int tensor) {
            int l = local(tensor);
            if (l < 0) {
                throw new UnsupportedOperationException("tensor '" + name(tensor) + "' is held by another worker");
            }
            return l;
        }

        @Override
        public int tensorCount() {
            return before.length;
        }

        @Override
        public String name(int tensor) {
            return shard.layout().names().get(tensor);
        }

        @Override
        public String group(int tensor) {
            return shard.layout().groups().get(tensor);
        }

        @Override
        public long[] shape(int tensor) {
            return shard.shape(owned(tensor));
        }

        @Override
        public long size(int tensor) {
            return shard.size(owned(tensor));
        }

        @Override
        public boolean hasParameter(int tensor) {
            int l = local(tensor);
            return l < 0 || shard.hasParameter(l); // the owner checks its own
        }

        @Override
        public void norms(double p, double[] out) {
            double[] mine = scratch;
            shard.norms(p, mine);
            for (int t = 0; t < before.length; t++) {
                int l = local(t);
                out[t] = l < 0 ? before[t] : mine[l];
            }
        }

        @Override
        public long nonFiniteCount(int tensor) {
            return shard.nonFiniteCount(owned(tensor));
        }

        @Override
        public long firstNonFinite(int tensor) {
            return shard.firstNonFinite(owned(tensor));
        }

        @Override
        public float get(int tensor, long index) {
            return shard.get(owned(tensor), index);
        }

        @Override
        public void set(int tensor, long index, float value) {
            shard.set(owned(tensor), index, value);
        }

        @Override
        public long zeroNonFinite(int tensor) {
            int l = local(tensor);
            return l < 0 ? 0 : shard.zeroNonFinite(l);
        }

        @Override
        public void scale(int tensor, double factor) {
            int l = local(tensor);
            if (l >= 0) {
                shard.scale(l, factor);
            }
        }

        @Override
        public long clamp(int tensor, double limit) {
            int l = local(tensor);
            return l < 0 ? 0 : shard.clamp(l, limit);
        }

        @Override
        public long clampAndMeasure(int tensor, double limit, double[] normAfter) {
            int l = local(tensor);
            if (l < 0) {
                normAfter[tensor] = before[tensor];
                return 0;
            }
            long changed = shard.clampAndMeasure(l, limit, scratch);
            normAfter[tensor] = scratch[l];
            return changed;
        }

        @Override
        public int unitCount(int tensor) {
            int l = local(tensor);
            return l < 0 ? 0 : shard.unitCount(l);
        }

        @Override
        public void unitNorms(int tensor, boolean parameter, double[] out) {
            int l = local(tensor);
            if (l >= 0) {
                shard.unitNorms(l, parameter, out);
            }
        }

        @Override
        public void scaleUnits(int tensor, double[] factors) {
            int l = local(tensor);
            if (l >= 0) {
                shard.scaleUnits(l, factors);
            }
        }
    }
}
