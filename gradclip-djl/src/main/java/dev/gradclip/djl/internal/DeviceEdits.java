package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.internal.ScaleSteps;
import java.util.Arrays;
import java.util.Objects;

/**
 * What {@link dev.gradclip.djl.DjlGradients} does with NDArray operations besides norms: scaling
 * (whole tensors and per unit), clamping, non-finite counts and zeroing, single elements. Linear
 * edits multiply every device copy; non-linear ones first reduce the copies into the first. Every
 * write marks the tensor's host view stale ({@link GradientHandles#written}). Not public API.
 */
public final class DeviceEdits {

    private final GradientHandles handles;
    private NDArray factorArray;
    private float factorValue;

    /** @param handles the tensors */
    public DeviceEdits(GradientHandles handles) {
        this.handles = handles;
    }

    /** Forgets the cached factor, which the session's manager closed. */
    public void forget() {
        factorArray = null;
    }

    /**
     * @param tensor tensor number
     * @return the number of NaN and infinite elements of the summed gradient
     */
    public long nonFiniteCount(int tensor) {
        try (NDManager sub = handles.scratch(tensor)) {
            NDArray g = handles.summedGradient(tensor, sub);
            return g.size() == 0 ? 0 : count(nonFiniteMask(g));
        }
    }

    /**
     * @param tensor tensor number
     * @return the flat index of the first NaN or infinite element of the summed gradient, or -1
     */
    public long firstNonFinite(int tensor) {
        try (NDManager sub = handles.scratch(tensor)) {
            NDArray g = handles.summedGradient(tensor, sub);
            if (g.size() == 0) {
                return -1;
            }
            NDArray mask = nonFiniteMask(g).reshape(-1);
            NDArray any = mask.countNonzero().toType(DataType.INT64, false);
            // argMax returns the first maximum; count and index come back in one transfer
            NDArray first = mask.toType(DataType.INT32, false).argMax().toType(DataType.INT64, false);
            long[] both = NDArrays.stack(new NDList(any.reshape(1), first.reshape(1))).reshape(-1).toLongArray();
            return both[0] == 0 ? -1 : both[1];
        }
    }

    /**
     * @param tensor tensor number
     * @param index  flat index
     * @return the element of the summed gradient
     */
    public float get(int tensor, long index) {
        try (NDManager sub = handles.scratch(tensor)) {
            return handles.summedGradient(tensor, sub).reshape(-1).getFloat(index);
        }
    }

    /**
     * Sets one element of the summed gradient (the copies reduced into the first).
     *
     * @param tensor tensor number
     * @param index  flat index
     * @param value  the value
     */
    public void set(int tensor, long index, float value) {
        Shape shape = handles.entry(tensor).shape();
        Objects.checkIndex(index, shape.size());
        long[] coordinates = new long[shape.dimension()];
        long rest = index;
        for (int d = coordinates.length - 1; d >= 0; d--) {
            coordinates[d] = rest % shape.get(d);
            rest /= shape.get(d);
        }
        handles.written(tensor);
        try (NDManager sub = handles.scratch(tensor)) {
            handles.reducedGradient(tensor, sub).set(new NDIndex(coordinates), value);
        }
    }

    /**
     * Replaces NaN and infinite elements of the summed gradient with 0 (the copies reduced first).
     *
     * @param tensor tensor number
     * @return the number replaced
     */
    public long zeroNonFinite(int tensor) {
        handles.written(tensor);
        try (NDManager sub = handles.scratch(tensor)) {
            NDArray g = handles.reducedGradient(tensor, sub);
            if (g.size() == 0) {
                return 0;
            }
            NDArray mask = nonFiniteMask(g);
            long count = count(mask);
            if (count > 0) {
                g.set(mask, 0f);
            }
            return count;
        }
    }

    /**
     * Multiplies every copy by a factor in the steps of {@link ScaleSteps}.
     *
     * @param tensor tensor number
     * @param factor the factor
     */
    public void scale(int tensor, double factor) {
        ScaleSteps s = ScaleSteps.of(factor);
        for (int i = 0; i < s.upSteps(); i++) {
            scaleBy(tensor, ScaleSteps.UP);
        }
        scaleBy(tensor, s.factor());
        for (int i = 0; i < s.downSteps(); i++) {
            scaleBy(tensor, ScaleSteps.DOWN);
        }
    }

    private void scaleBy(int tensor, float factor) {
        GradientEntry e = handles.entry(tensor);
        if (e.shape().size() == 0) {
            return;
        }
        handles.written(tensor);
        NDArray f = factor(factor);
        NDArray[] h = handles.handles(tensor);
        for (int i = 0; i < h.length; i++) {
            if (e.devices()[i].equals(handles.sessionDevice())) {
                h[i].muli(f);
            } else {
                try (NDArray there = f.toDevice(e.devices()[i], true)) {
                    h[i].muli(there);
                }
            }
        }
    }

    /** The factor as a float32 scalar on the device, made once per value (a global clip reuses it). */
    private NDArray factor(float value) {
        if (factorArray == null || Float.floatToRawIntBits(value) != Float.floatToRawIntBits(factorValue)) {
            if (factorArray != null) {
                factorArray.close();
            }
            factorArray = handles.sessionManager().create(value);
            factorValue = value;
        }
        return factorArray;
    }

    /**
     * Clamps the summed gradient to {@code [-limit, limit]} (the copies reduced first).
     *
     * @param tensor tensor number
     * @param limit  the limit
     * @return the number of elements changed
     */
    public long clamp(int tensor, double limit) {
        float c = (float) limit;
        handles.written(tensor);
        try (NDManager sub = handles.scratch(tensor)) {
            NDArray g = handles.reducedGradient(tensor, sub);
            if (g.size() == 0) {
                return 0;
            }
            NDArray above = g.gt(c);
            NDArray below = g.lt(-c);
            long changed = count(above.logicalOr(below));
            if (changed > 0) {
                g.set(above, c);
                g.set(below, -c);
            }
            return changed;
        }
    }

    /**
     * Multiplies each unit (slice along the first axis) of a tensor of rank ≥ 2 by its factor: one
     * broadcast {@code float32} multiplication, and where a factor lies outside the normal float range
     * the exact powers of two of {@link ScaleSteps} (one more multiplication per step, by 1 for the
     * other units). A factor of exactly 1 leaves its unit's bits unchanged.
     *
     * @param tensor  tensor number, of rank ≥ 2
     * @param factors one factor per unit
     */
    public void scaleUnits(int tensor, double[] factors) {
        int units = factors.length;
        ScaleSteps[] steps = new ScaleSteps[units];
        float[] f = new float[units];
        int up = 0;
        int down = 0;
        for (int u = 0; u < units; u++) {
            steps[u] = ScaleSteps.of(factors[u]);
            f[u] = steps[u].factor();
            up = Math.max(up, steps[u].upSteps());
            down = Math.max(down, steps[u].downSteps());
        }
        handles.written(tensor);
        for (int k = 0; k < up; k++) {
            float[] powers = new float[units];
            for (int u = 0; u < units; u++) {
                powers[u] = k < steps[u].upSteps() ? ScaleSteps.UP : 1f;
            }
            multiplyUnits(tensor, powers);
        }
        multiplyUnits(tensor, f);
        for (int k = 0; k < down; k++) {
            float[] powers = new float[units];
            for (int u = 0; u < units; u++) {
                powers[u] = k < steps[u].downSteps() ? ScaleSteps.DOWN : 1f;
            }
            multiplyUnits(tensor, powers);
        }
    }

    /** Multiplies every copy of a tensor of rank ≥ 2 by one factor per unit (first axis), broadcast. */
    private void multiplyUnits(int tensor, float[] unitFactors) {
        GradientEntry e = handles.entry(tensor);
        long[] broadcast = new long[e.shape().dimension()];
        Arrays.fill(broadcast, 1);
        broadcast[0] = unitFactors.length;
        try (NDArray flat = handles.sessionManager().create(unitFactors);
                NDArray unitArray = flat.reshape(broadcast)) {
            NDArray[] h = handles.handles(tensor);
            for (int i = 0; i < h.length; i++) {
                if (e.devices()[i].equals(handles.sessionDevice())) {
                    h[i].muli(unitArray);
                } else {
                    try (NDArray there = unitArray.toDevice(e.devices()[i], true)) {
                        h[i].muli(there);
                    }
                }
            }
        }
    }

    /** Sets every gradient of every copy to zero. */
    public void zeroGradients() {
        for (int t = 0; t < handles.count(); t++) {
            handles.written(t);
            try (NDManager sub = handles.scratch(t)) {
                for (NDArray g : handles.gradientCopies(t, sub)) {
                    GradientHandles.zero(g);
                }
            }
        }
    }

    private static long count(NDArray mask) {
        return mask.countNonzero().toType(DataType.INT64, false).toLongArray()[0];
    }

    private static NDArray nonFiniteMask(NDArray g) {
        return g.isNaN().logicalOr(g.isInfinite());
    }
}
