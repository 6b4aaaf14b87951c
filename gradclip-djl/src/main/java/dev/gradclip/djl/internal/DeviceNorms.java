package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Norms computed with NDArray operations on the device where the gradients live: p = 1, 2 in
 * {@code float32} along rows of at most {@value #ROW} elements combined in {@code double}, with an
 * exact {@code float64} fallback for overflow and underflow; p = ∞ exact in {@code float32}; any other
 * p in {@code float64}, divided by the largest magnitude first. Only row norms cross to the Java heap,
 * all in one transfer. Not public API.
 */
public final class DeviceNorms {

    /** Rows of at most this many elements are summed in {@code float32}. */
    public static final int ROW = 1024;

    /** A square sum below this per element may have lost squares to float underflow. */
    public static final double TINY_PER_ELEMENT = 0x1p-100;

    private static final int[] ALONG_ROWS = {1};
    private static final int[] WHOLE_VECTOR = {0};

    private final GradientHandles handles;
    /** Per tensor: the row length of the {@code float32} row norms, 0 for the exact path. */
    private final int[] rowLength;

    /** @param handles the tensors */
    public DeviceNorms(GradientHandles handles) {
        this.handles = handles;
        this.rowLength = new int[handles.count()];
        for (int t = 0; t < rowLength.length; t++) {
            rowLength[t] = rowLength(handles.entry(t).shape());
        }
    }

    /**
     * The p-norm of every tensor not yet {@code done}.
     *
     * @param p    the order, at least 1
     * @param out  receives the norms
     * @param done the tensors already measured (by the host path)
     */
    public void norms(double p, double[] out, boolean[] done) {
        if (p == 1.0 || p == 2.0) {
            rowNorms((int) p, out, done);
        } else if (p == Double.POSITIVE_INFINITY) {
            maxNorms(out, done);
        } else {
            genericNorms(p, out, done);
        }
    }

    /**
     * The p = 1, 2 hot path: per tensor a view as rows and one {@code float32} norm along them (two
     * native operations, one read of the gradient), one concatenation and one transfer of all row
     * norms (one per row of 16 to 1024 elements or per tensor, never the gradient itself), combined
     * per tensor in {@code double} on the heap; a tensor whose result cannot be trusted (see
     * {@link #trustworthy}) is measured again exactly.
     */
    private void rowNorms(int ord, double[] out, boolean[] done) {
        int n = handles.count();
        NDArray[] rows = new NDArray[n];
        int parts = 0;
        try {
            Device device = null;
            for (int t = 0; t < n; t++) {
                Shape shape = handles.entry(t).shape();
                if (done[t] || shape.size() == 0 || rowLength[t] == 0) {
                    continue;
                }
                NDArray g = handles.summedOrHandle(t);
                try {
                    rows[t] = rowNorms(g, shape, rowLength[t], ord);
                } finally {
                    handles.closeIfTemporary(t, g);
                }
                parts++;
                Device here = handles.entry(t).devices()[0];
                device = device == null ? here : device;
                if (!here.equals(device)) {
                    NDArray moved = rows[t].toDevice(device, false);
                    rows[t].close();
                    rows[t] = moved;
                }
            }
            float[] all = new float[0];
            if (parts == 1) {
                for (NDArray r : rows) {
                    all = r != null ? r.toFloatArray() : all;
                }
            } else if (parts > 1) {
                NDList list = new NDList(parts);
                for (NDArray r : rows) {
                    if (r != null) {
                        list.add(r);
                    }
                }
                try (NDArray joined = NDArrays.concat(list)) {
                    all = joined.toFloatArray();
                }
            }
            int at = 0;
            for (int t = 0; t < n; t++) {
                long size = handles.entry(t).shape().size();
                if (done[t]) {
                    continue;
                }
                if (size == 0) {
                    out[t] = 0.0;
                    continue;
                }
                if (rowLength[t] == 0) {
                    out[t] = exactNorm(t, ord);
                    continue;
                }
                int count = Math.toIntExact(size / rowLength[t]);
                double sum = 0.0;
                for (int i = 0; i < count; i++) {
                    double r = all[at + i];
                    sum += ord == 1 ? r : r * r;
                }
                at += count;
                double norm = ord == 1 ? sum : Math.sqrt(sum);
                out[t] = trustworthy(norm, ord, size) ? norm : exactNorm(t, ord);
            }
        } finally {
            for (NDArray r : rows) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    /**
     * The {@code float32} norms of a tensor's rows of {@code length} elements, as a vector. A vector
     * or matrix whose own rows have that length is normed as it is: each native operation costs
     * microseconds on a small tensor, so the reshape is skipped where it changes nothing.
     */
    private static NDArray rowNorms(NDArray g, Shape shape, int length, int ord) {
        int dims = shape.dimension();
        if (dims == 1 && shape.get(0) == length) {
            return g.norm(ord, WHOLE_VECTOR, true);
        }
        if (dims == 2 && shape.get(1) == length) {
            return g.norm(ord, ALONG_ROWS, false);
        }
        try (NDArray matrix = g.reshape(shape.size() / length, length)) {
            return matrix.norm(ord, ALONG_ROWS, false);
        }
    }

    /** p = ∞: the largest magnitude of each tensor, exact in {@code float32}, stacked into one transfer. */
    private void maxNorms(double[] out, boolean[] done) {
        int n = handles.count();
        NDArray[] results = new NDArray[n];
        try {
            Device device = null;
            NDList list = new NDList(n);
            for (int t = 0; t < n; t++) {
                if (done[t]) {
                    continue;
                }
                NDArray g = handles.summedOrHandle(t);
                try {
                    results[t] = exactNorm(t, g, Double.POSITIVE_INFINITY);
                } finally {
                    handles.closeIfTemporary(t, g);
                }
                Device here = handles.entry(t).shape().size() == 0 ? handles.sessionDevice()
                        : handles.entry(t).devices()[0];
                device = device == null ? here : device;
                if (!here.equals(device)) {
                    NDArray moved = results[t].toDevice(device, false);
                    results[t].close();
                    results[t] = moved;
                }
                list.add(results[t]);
            }
            try (NDArray stacked = list.size() == 1 ? list.get(0).reshape(1) : NDArrays.stack(list)) {
                double[] values = stacked.toDoubleArray();
                for (int t = 0, i = 0; t < n; t++) {
                    if (!done[t]) {
                        out[t] = values[i++];
                    }
                }
            }
        } finally {
            for (NDArray r : results) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    /**
     * The row length for a tensor's {@code float32} row norms: a vector's or matrix's last dimension
     * when it is 16 to 1024 (a vector's size when at most 1024), else the longest length of at most
     * 1024 that divides the size (so the tensor is a {@code [size / L, L]} view with no tail), or 0
     * when the only such lengths are below 16 (a tensor then takes the exact path), so that a row norm
     * always stands for 16 or more elements or a whole tensor.
     */
    private static int rowLength(Shape shape) {
        long size = shape.size();
        int dims = shape.dimension();
        long last = dims == 0 ? 1 : shape.get(dims - 1);
        if (dims <= 2 && last <= ROW && (last >= 16 || dims == 1 && last >= 1)) {
            // a vector's or matrix's own rows: normed without a reshape
            return (int) last;
        }
        for (int length = (int) Math.min(ROW, size); length >= 1; length--) {
            if (size % length == 0) {
                return length >= 16 || length == size ? length : 0;
            }
        }
        return 0;
    }

    /** Whether a row-wise result needs no exact recomputation: finite, and for p = 2 not tiny. */
    private static boolean trustworthy(double norm, int ord, long size) {
        if (!Double.isFinite(norm)) {
            return false;
        }
        return ord != 2 || norm * norm >= size * TINY_PER_ELEMENT;
    }

    /** The exact {@code float64} p-norm of one tensor, for a row-wise result that cannot be trusted. */
    private double exactNorm(int tensor, double p) {
        NDArray g = handles.summedOrHandle(tensor);
        try (NDArray r = exactNorm(tensor, g, p)) {
            return r.toDoubleArray()[0];
        } finally {
            handles.closeIfTemporary(tensor, g);
        }
    }

    /** The p-norm (p = 1, 2, ∞) of {@code g} as a new {@code float64} scalar; closes its intermediates. */
    private NDArray exactNorm(int tensor, NDArray g, double p) {
        if (handles.entry(tensor).shape().size() == 0) {
            return handles.sessionManager().create(0.0);
        }
        if (p == Double.POSITIVE_INFINITY) {
            // the largest magnitude is exact in float32 (NaN propagates through max): no conversion
            try (NDArray abs = g.abs(); NDArray max = abs.max()) {
                return max.toType(DataType.FLOAT64, false);
            }
        }
        try (NDArray x = g.toType(DataType.FLOAT64, false)) {
            // in float64 the squares of finite floats cannot overflow
            return x.norm(p == 1.0 ? 1 : 2, new int[0], false);
        }
    }

    private void genericNorms(double p, double[] out, boolean[] done) {
        int n = handles.count();
        try (NDManager sub = handles.scratch(0)) {
            NDList results = new NDList(n);
            Device device = null;
            for (int t = 0; t < n; t++) {
                if (done[t]) {
                    continue;
                }
                NDArray g = handles.summedGradient(t, sub);
                NDArray norm = genericNorm(g, p, sub);
                device = device == null ? norm.getDevice() : device;
                results.add(norm.getDevice().equals(device) ? norm : norm.toDevice(device, false));
            }
            double[] values = (results.size() == 1 ? results.get(0).reshape(1) : NDArrays.stack(results))
                    .toDoubleArray();
            for (int t = 0, i = 0; t < n; t++) {
                if (!done[t]) {
                    out[t] = values[i++];
                }
            }
        }
    }

    /** The p-norm of {@code g} for any p, as a {@code float64} scalar in {@code sub}. */
    private static NDArray genericNorm(NDArray g, double p, NDManager sub) {
        if (g.size() == 0) {
            return sub.create(0.0).toDevice(g.getDevice(), false);
        }
        NDArray abs = g.toType(DataType.FLOAT64, false).abs();
        NDArray max = abs.max();
        // divide by the largest magnitude so no power overflows; 0, ∞ and NaN maxima are the norm
        NDArray usable = max.gt(0.0).logicalAnd(max.lt(Double.POSITIVE_INFINITY));
        NDArray divisor = NDArrays.where(usable, max, max.onesLike());
        NDArray scaled = abs.div(divisor).pow(p).sum().pow(1.0 / p).mul(divisor);
        return NDArrays.where(usable, scaled, max);
    }

    /**
     * The 2-norm of each unit (slice along the first axis) of a tensor's summed gradient or of its
     * parameter values, on the device: in {@code float32} for units of at most {@value #ROW} elements
     * whose results can be trusted, else in {@code float64}.
     *
     * @param tensor    tensor number, of at least one element
     * @param parameter whether to measure the parameter values rather than the gradient
     * @param units     the number of units
     * @param out       receives the norms
     */
    public void unitNorms(int tensor, boolean parameter, int units, double[] out) {
        GradientEntry e = handles.entry(tensor);
        NDArray a = parameter ? e.parameterValues() : handles.summedOrHandle(tensor);
        int[] axes = new int[Math.max(0, e.shape().dimension() - 1)];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        long per = e.shape().size() / units;
        try {
            if (per <= ROW && a.getDataType() == DataType.FLOAT32 && unitNormsInFloat(a, axes, per, units, out)) {
                return;
            }
            try (NDArray x = a.toType(DataType.FLOAT64, false); NDArray norms = x.norm(2, axes, false)) {
                System.arraycopy(norms.toDoubleArray(), 0, out, 0, units);
            }
        } finally {
            if (!parameter) {
                handles.closeIfTemporary(tensor, a);
            }
        }
    }

    /**
     * Unit norms of at most {@value #ROW} elements each in {@code float32} (one read, as the row norms
     * of {@link #norms}); {@code false}, leaving {@code out} to be overwritten, when a result cannot be
     * trusted: not finite, or a square sum below {@code 2^-100} per element, 0 included, since a unit
     * of elements under about {@code 3.7e-23} in magnitude also sums to 0 in {@code float32} (an all-zero
     * unit, such as a bias at its initial value, is therefore measured in {@code float64}).
     */
    private static boolean unitNormsInFloat(NDArray a, int[] axes, long per, int units, double[] out) {
        float[] norms;
        try (NDArray n = a.norm(2, axes, false)) {
            norms = n.toFloatArray();
        }
        for (int u = 0; u < units; u++) {
            double n = norms[u];
            if (!Double.isFinite(n) || n * n < per * TINY_PER_ELEMENT) {
                return false;
            }
            out[u] = n;
        }
        return true;
    }
}
