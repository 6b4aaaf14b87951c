package dev.gradclip.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import dev.gradclip.Clipper;
import dev.gradclip.Gradients;
import dev.gradclip.internal.ScaleSteps;
import java.lang.ref.Cleaner;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The {@link Gradients} backend for DJL {@link NDArray}s: every primitive a {@link Clipper} needs,
 * computed on the device where the gradients live, so that every gradclip clipper (value, norm,
 * global p-norm, per group, AGC, the adaptive ones, every non-finite policy) runs unchanged on a DJL
 * model.
 *
 * <pre>{@code
 * // after backward, before trainer.step():
 * try (DjlGradients grads = DjlGradients.of(trainer)) {
 *     ClipReport report = Clippers.globalNorm(1.0).clip(grads);
 * }
 * trainer.step();
 * }</pre>
 * (This example is compiled and run by {@code JavadocSnippetsTest} in this module's tests, which
 * holds the same text and fails when the two differ.)
 *
 * <p><b>Names and groups.</b> A tensor's name is its DJL parameter name, the key of
 * {@link Block#getParameters()} (for example {@code 01RNN_l_0_h2h_WEIGHT}); its group is the block
 * that owns it (the key up to the parameter's own name, {@code 01RNN}), so per-group clipping is per
 * layer, as DL4J's {@code ClipL2PerLayer}. The parameter values are always available, so AGC works.
 *
 * <p><b>On the device.</b> Norms are computed by NDArray operations: p = 1, 2 norms in {@code float32}
 * along rows of at most 1024 elements, the row norms combined in {@code double} (a single
 * {@code float32} sum loses a quarter of a 64M-element sum; rows of 1024 stay within about 1e-7), with
 * an exact {@code float64} fallback for overflow and underflow; only row norms (a thousandth of a large
 * tensor; one per 16 elements at most, or one per tensor) cross to the Java heap, all in one transfer
 * ({@link #norms(double, double[])}). Generic p-norms are computed in {@code float64} and divide by the
 * largest magnitude first, so no power
 * overflows. No gradient or parameter tensor is ever copied to the Java heap.
 *
 * <p><b>Small tensors on the CPU.</b> On the PyTorch engine's CPU device, a tensor of at most
 * {@value #HOST_READ_MAX} elements held as one copy is read where it lives, through the direct
 * buffer DJL's {@link NDArray#toByteBuffer(boolean) toByteBuffer(true)} gives over the tensor's own
 * memory (no copy), and its norms (and AGC's unit norms) are summed in {@code double} on the host: a
 * native operation costs microseconds however small its tensor, which is most of the time a small
 * model spends clipping (the RNN of the lab's adding task has six tensors of 1 to 2,500 elements).
 * Writes (scaling, clamping) always go through NDArray operations.
 *
 * <p><b>Memory.</b> Every intermediate NDArray a primitive creates is closed before it returns (the
 * frequent primitives close each one as soon as it is used; the others work in a sub-manager closed
 * at the end of the call). The gradient handles DJL's {@link NDArray#getGradient()} makes (a new one
 * per call) are fetched once and kept, with the scaling factor, in a sub-manager until
 * {@link #close()}; a view dropped without {@code close()} is released by a {@link Cleaner}. A long
 * run therefore keeps native memory flat; {@code SoakRun} measures it.
 *
 * <p><b>Several devices.</b> When a parameter has a copy on each of several devices (DJL's
 * {@code ParameterStore} does this for multi-device training), its gradient is the <em>sum</em> of the
 * copies' gradients, because that sum is what DJL's {@code LocalParameterServer} hands to the
 * optimizer. So:
 * <ul>
 *   <li>norms, non-finite counts and AGC's unit norms are those of the summed gradient (summed on the
 *       first copy's device, in a temporary, without writing);</li>
 *   <li>linear rescaling ({@link #scale}, {@link #scaleUnits}, so every norm method and AGC) multiplies
 *       every copy by the same factor, which multiplies their sum by it exactly;</li>
 *   <li>non-linear edits ({@link #clamp} for value clipping, {@link #zeroNonFinite} for the
 *       {@code ZERO} policy) first reduce the copies into the first one and set the others to zero,
 *       then edit the first; the parameter server's sum then equals the edited sum.</li>
 * </ul>
 *
 * <p>Use: build a view once per model, clip after each backward, and {@link #close()} it after the
 * update; it fetches the handles again at the next use ({@link ClippedTrainer} and
 * {@link GradientClipListener} do this). Not thread-safe.
 */
public final class DjlGradients implements Gradients, AutoCloseable {

    /** Closes the handles of views that were dropped without {@link #close()}. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final Entry[] entries;
    private final boolean[] reduced;
    /** Per tensor: the row length of the {@code float32} row norms, 0 for the exact path. */
    private final int[] rowLength;
    private final NDArray[][] handles;
    /** Per tensor: whether its gradient is read in place on the host (see the class comment). */
    private final boolean[] hostRead;
    /** Per tensor: the direct buffer over its gradient, for this session, until the next write. */
    private final FloatBuffer[] hostViews;
    private final Session session = new Session();
    private NDArray factorArray;
    private float factorValue;

    /**
     * The native handles a view holds between {@link #close()} calls: DJL's {@code getGradient()}
     * makes a new handle each call, so they are fetched once and kept in one sub-manager. Not a
     * reference to the view, so the cleaner can run.
     */
    private static final class Session implements Runnable {
        private NDManager manager;

        @Override
        public void run() {
            NDManager m = manager;
            manager = null;
            if (m != null) {
                m.close();
            }
        }
    }

    /**
     * One tensor: the arrays holding its gradient (one per device), and the parameter values.
     *
     * @param parameterCopies the parameter arrays whose {@code getGradient()} is the gradient, or null
     * @param gradientCopies  explicit gradient arrays, or null when read from {@code parameterCopies}
     * @param parameter       the parameter values, or null
     * @param source          the DJL parameter of a one-device model, read again at every session so
     *                        that a parameter whose array is replaced (a checkpoint loaded) is followed
     */
    private record Entry(String name, String group, Shape shape, NDArray[] parameterCopies,
            NDArray[] gradientCopies, NDArray parameter, Parameter source, Device[] devices) {

        int copies() {
            return gradientCopies != null ? gradientCopies.length : parameterCopies.length;
        }

        NDArray parameterCopy(int i) {
            return source != null ? source.getArray() : parameterCopies[i];
        }

        NDArray parameterValues() {
            return source != null ? source.getArray() : parameter;
        }
    }

    private DjlGradients(List<Entry> entries, boolean hostReads) {
        this.entries = entries.toArray(new Entry[0]);
        this.reduced = new boolean[this.entries.length];
        this.rowLength = new int[this.entries.length];
        for (int t = 0; t < this.entries.length; t++) {
            rowLength[t] = rowLength(this.entries[t].shape);
        }
        this.handles = new NDArray[this.entries.length][];
        this.hostRead = new boolean[this.entries.length];
        this.hostViews = new FloatBuffer[this.entries.length];
        for (int t = 0; t < this.entries.length; t++) {
            Entry e = this.entries[t];
            long size = e.shape.size();
            hostRead[t] = hostReads && e.copies() == 1 && size > 0 && size <= HOST_READ_MAX
                    && onHostMemory(e.devices[0], anchor(t));
        }
        CLEANER.register(this, session);
    }

    /** Tensors of at most this many elements on the CPU are read in place (see the class comment). */
    static final long HOST_READ_MAX = 4096;

    /**
     * Whether an array's memory is host memory that {@code toByteBuffer(true)} exposes without a copy:
     * the PyTorch engine on the CPU (other engines may copy into a heap buffer).
     */
    private static boolean onHostMemory(Device d, NDArray array) {
        return Device.Type.CPU.equals(d.getDeviceType())
                && "PyTorch".equals(array.getManager().getEngine().getEngineName());
    }

    /** @return a builder for a set of named NDArray gradients */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The gradients of every trainable parameter of a trainer's model, on every device it trains on.
     * With one device the parameter arrays of the model's block are used; with several, the copies in
     * the trainer's {@code ParameterStore} (read through reflection, since DJL does not expose it).
     *
     * @param trainer a trainer whose model is initialized, after backward
     * @return the gradients, named and grouped by the model's block structure
     * @throws IllegalStateException if a parameter is not initialized, or the per-device copies of a
     *                               multi-device trainer cannot be reached
     */
    public static DjlGradients of(Trainer trainer) {
        Objects.requireNonNull(trainer, "trainer");
        Device[] devices = trainer.getDevices();
        Block block = trainer.getModel().getBlock();
        if (devices.length <= 1) {
            return of(block);
        }
        ParameterStore store = parameterStore(trainer);
        Builder b = builder();
        for (NamedParameter p : parameters(block)) {
            NDArray[] copies = new NDArray[devices.length];
            for (int d = 0; d < devices.length; d++) {
                copies[d] = store.getValue(p.parameter, devices[d], true);
            }
            b.addParameter(p.name, p.group, copies);
        }
        return b.build();
    }

    /**
     * The gradients of every trainable parameter of a block (one device).
     *
     * @param block an initialized block, after backward
     * @return the gradients, named by {@link Block#getParameters()} keys and grouped by owning block
     * @throws IllegalStateException if a parameter is not initialized
     */
    public static DjlGradients of(Block block) {
        Objects.requireNonNull(block, "block");
        Builder b = builder();
        for (NamedParameter p : parameters(block)) {
            b.addParameter(p.name, p.group, p.parameter.getArray());
            Entry e = b.entries.remove(b.entries.size() - 1);
            b.entries.add(new Entry(e.name, e.group, e.shape, e.parameterCopies, null, e.parameter, p.parameter,
                    e.devices));
        }
        return b.build();
    }

    private record NamedParameter(String name, String group, Parameter parameter) {
    }

    /** Trainable parameters in {@link Block#getParameters()} order, each with its owning block's path. */
    private static List<NamedParameter> parameters(Block block) {
        List<NamedParameter> out = new ArrayList<>();
        collect(block, "", "", out);
        return out;
    }

    private static void collect(Block block, String prefix, String group, List<NamedParameter> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            Parameter parameter = p.getValue();
            if (!parameter.requiresGradient()) {
                continue;
            }
            if (!parameter.isInitialized()) {
                throw new IllegalStateException("parameter '" + prefix + p.getKey() + "' is not initialized;"
                        + " call trainer.initialize(shapes) before clipping");
            }
            out.add(new NamedParameter(prefix + p.getKey(), group.isEmpty() ? p.getKey() : group, parameter));
        }
        for (Pair<String, Block> child : block.getChildren()) {
            String childGroup = prefix + child.getKey();
            collect(child.getValue(), childGroup + "_", childGroup, out);
        }
    }

    private static ParameterStore parameterStore(Trainer trainer) {
        try {
            Field f = Trainer.class.getDeclaredField("parameterStore");
            f.setAccessible(true);
            return (ParameterStore) f.get(trainer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot reach the per-device parameter copies of this DJL Trainer ("
                    + e + "); build DjlGradients with DjlGradients.builder().addParameter(name, group, copies...)",
                    e);
        }
    }

    @Override
    public int tensorCount() {
        return entries.length;
    }

    @Override
    public String name(int tensor) {
        return entries[tensor].name;
    }

    @Override
    public String group(int tensor) {
        return entries[tensor].group;
    }

    @Override
    public long[] shape(int tensor) {
        return entries[tensor].shape.getShape();
    }

    @Override
    public long size(int tensor) {
        return entries[tensor].shape.size();
    }

    @Override
    public boolean hasParameter(int tensor) {
        return entries[tensor].parameter != null;
    }

    /**
     * @param tensor tensor number
     * @return how many device copies hold a part of this tensor's gradient
     */
    public int copyCount(int tensor) {
        return entries[tensor].copies();
    }

    /**
     * {@inheritDoc}
     *
     * <p>All tensors' norms are computed on the device and come back to the heap in one transfer.
     * For p = 1 and 2, each tensor is viewed as rows of at most 1024 elements (the longest length that
     * divides its size) and normed along the rows in {@code float32} (rows this short keep float
     * accumulation within about 1e-7; a whole 64M-element float sum loses a quarter), reading the
     * gradient once (4 bytes per element) where a {@code float64} conversion moves 20; the row norms
     * are combined in {@code double}. A tensor whose result is not finite (an overflowing row, or a
     * real NaN or infinity) or, for p = 2, whose square sum is below {@code 2^-100} per element
     * (squares lost to float underflow) is measured again exactly in {@code float64}, as gradclip-core's
     * SIMD kernel does; so is a tensor whose size has no divisor between 16 and 1024 (over 1024
     * elements). p = ∞ is exact in {@code float32}.
     */
    @Override
    public void norms(double p, double[] out) {
        int n = entries.length;
        if (n == 0) {
            return;
        }
        boolean[] done = new boolean[n];
        int remaining = n;
        for (int t = 0; t < n; t++) {
            if (hostRead[t]) {
                out[t] = hostNorm(hostView(t), 0, entries[t].shape.size(), p);
                done[t] = true;
                remaining--;
            }
        }
        if (remaining == 0) {
            return;
        }
        if (p == 1.0 || p == 2.0) {
            rowNorms((int) p, out, done);
        } else if (p == Double.POSITIVE_INFINITY) {
            maxNorms(out, done);
        } else {
            genericNorms(p, out, done);
        }
    }

    /**
     * The p-norm of {@code count} floats of a host buffer from {@code from}, in {@code double}: the
     * squares of floats cannot overflow it, and a NaN or infinity gives NaN or ∞ as the device paths do.
     * A generic p divides by the largest magnitude first, so no power overflows.
     */
    static double hostNorm(FloatBuffer b, long from, long count, double p) {
        int start = Math.toIntExact(from);
        int end = Math.toIntExact(from + count);
        if (p == 2.0) {
            double sum = 0.0;
            for (int i = start; i < end; i++) {
                double v = b.get(i);
                sum += v * v;
            }
            return Math.sqrt(sum);
        }
        if (p == 1.0) {
            double sum = 0.0;
            for (int i = start; i < end; i++) {
                sum += Math.abs(b.get(i));
            }
            return sum;
        }
        double max = 0.0;
        boolean nan = false;
        for (int i = start; i < end; i++) {
            float v = b.get(i);
            nan |= v != v;
            max = Math.max(max, Math.abs(v));
        }
        if (nan) {
            return Double.NaN;
        }
        if (p == Double.POSITIVE_INFINITY || max == 0.0 || max == Double.POSITIVE_INFINITY) {
            return max;
        }
        double sum = 0.0;
        for (int i = start; i < end; i++) {
            sum += Math.pow(Math.abs(b.get(i)) / max, p);
        }
        return Math.pow(sum, 1.0 / p) * max;
    }

    /**
     * The direct buffer over a host-read tensor's gradient, fetched once per session and dropped at
     * the tensor's next write (a non-contiguous gradient is read through a contiguous copy, which a
     * write would not reach).
     */
    private FloatBuffer hostView(int tensor) {
        FloatBuffer view = hostViews[tensor];
        NDArray array = handles(tensor)[0];
        if (view == null || array.isReleased()) {
            // a gradient array closed by its owner is never read through a stale buffer: DJL refuses it
            view = hostBuffer(array);
            hostViews[tensor] = view;
        }
        return view;
    }

    private static FloatBuffer hostBuffer(NDArray array) {
        ByteBuffer bytes = array.toByteBuffer(true);
        return bytes.asFloatBuffer();
    }

    /** Marks a tensor's gradient as written: its host view is fetched again at the next read. */
    private void written(int tensor) {
        hostViews[tensor] = null;
    }

    /**
     * The p = 1, 2 hot path: per tensor a view as rows and one {@code float32} norm along them (two
     * native operations, one read of the gradient), one concatenation and one transfer of all row
     * norms (one per row of 16 to 1024 elements or per tensor, never the gradient itself), combined
     * per tensor in {@code double} on the heap; a tensor
     * whose result cannot be trusted (see {@link #trustworthy}) is measured again exactly.
     */
    private void rowNorms(int ord, double[] out, boolean[] done) {
        int n = entries.length;
        NDArray[] rows = new NDArray[n];
        int parts = 0;
        try {
            Device device = null;
            for (int t = 0; t < n; t++) {
                long size = entries[t].shape.size();
                if (done[t] || size == 0 || rowLength[t] == 0) {
                    continue;
                }
                NDArray g = summedOrHandle(t);
                try {
                    rows[t] = rowNorms(g, entries[t].shape, rowLength[t], ord);
                } finally {
                    closeIfTemporary(t, g);
                }
                parts++;
                Device here = entries[t].devices[0];
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
                long size = entries[t].shape.size();
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

    private static final int[] ALONG_ROWS = {1};
    private static final int[] WHOLE_VECTOR = {0};

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
        int n = entries.length;
        NDArray[] results = new NDArray[n];
        try {
            Device device = null;
            NDList list = new NDList(n);
            for (int t = 0; t < n; t++) {
                if (done[t]) {
                    continue;
                }
                NDArray g = summedOrHandle(t);
                try {
                    results[t] = exactNorm(t, g, Double.POSITIVE_INFINITY);
                } finally {
                    closeIfTemporary(t, g);
                }
                Device here = entries[t].shape.size() == 0 ? sessionDevice() : entries[t].devices[0];
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

    /** Rows of at most this many elements are summed in {@code float32}. */
    private static final int ROW = 1024;

    /** A square sum below this per element may have lost squares to float underflow. */
    private static final double TINY_PER_ELEMENT = 0x1p-100;

    /** Whether a row-wise result needs no exact recomputation: finite, and for p = 2 not tiny. */
    private static boolean trustworthy(double norm, int ord, long size) {
        if (!Double.isFinite(norm)) {
            return false;
        }
        return ord != 2 || norm * norm >= size * TINY_PER_ELEMENT;
    }

    /** The exact {@code float64} p-norm of one tensor, for a row-wise result that cannot be trusted. */
    private double exactNorm(int tensor, double p) {
        NDArray g = summedOrHandle(tensor);
        try (NDArray r = exactNorm(tensor, g, p)) {
            return r.toDoubleArray()[0];
        } finally {
            closeIfTemporary(tensor, g);
        }
    }

    /** The p-norm (p = 1, 2, ∞) of {@code g} as a new {@code float64} scalar; closes its intermediates. */
    private NDArray exactNorm(int tensor, NDArray g, double p) {
        if (entries[tensor].shape.size() == 0) {
            return sessionManager().create(0.0);
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
        try (NDManager sub = scratch(0)) {
            NDList results = new NDList(entries.length);
            Device device = null;
            for (int t = 0; t < entries.length; t++) {
                if (done[t]) {
                    continue;
                }
                NDArray g = summedGradient(t, sub);
                NDArray n = genericNorm(g, p, sub);
                device = device == null ? n.getDevice() : device;
                results.add(n.getDevice().equals(device) ? n : n.toDevice(device, false));
            }
            double[] values = (results.size() == 1 ? results.get(0).reshape(1) : NDArrays.stack(results))
                    .toDoubleArray();
            for (int t = 0, i = 0; t < entries.length; t++) {
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

    @Override
    public long nonFiniteCount(int tensor) {
        try (NDManager sub = scratch(tensor)) {
            NDArray g = summedGradient(tensor, sub);
            return g.size() == 0 ? 0 : count(nonFiniteMask(g));
        }
    }

    @Override
    public long firstNonFinite(int tensor) {
        try (NDManager sub = scratch(tensor)) {
            NDArray g = summedGradient(tensor, sub);
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

    @Override
    public float get(int tensor, long index) {
        try (NDManager sub = scratch(tensor)) {
            NDArray g = summedGradient(tensor, sub);
            return g.reshape(-1).getFloat(index);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment), so that the summed gradient holds {@code value} at {@code index}.
     */
    @Override
    public void set(int tensor, long index, float value) {
        Shape shape = entries[tensor].shape;
        Objects.checkIndex(index, shape.size());
        long[] coordinates = new long[shape.dimension()];
        long rest = index;
        for (int d = coordinates.length - 1; d >= 0; d--) {
            coordinates[d] = rest % shape.get(d);
            rest /= shape.get(d);
        }
        written(tensor);
        try (NDManager sub = scratch(tensor)) {
            reducedGradient(tensor, sub).set(new NDIndex(coordinates), value);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment).
     */
    @Override
    public long zeroNonFinite(int tensor) {
        written(tensor);
        try (NDManager sub = scratch(tensor)) {
            NDArray g = reducedGradient(tensor, sub);
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
     * {@inheritDoc}
     *
     * <p>As {@link dev.gradclip.GradientSet} (the conventions of {@link Gradients}): a factor outside
     * the normal float range is applied as a {@code float32} factor and exact powers of two, in the
     * order of {@link ScaleSteps}, so it is never rounded to 0, to a subnormal or to infinity.
     */
    @Override
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
        Entry e = entries[tensor];
        if (e.shape.size() == 0) {
            return;
        }
        written(tensor);
        NDArray f = factor(factor);
        NDArray[] h = handles(tensor);
        for (int i = 0; i < h.length; i++) {
            if (e.devices[i].equals(sessionDevice())) {
                h[i].muli(f);
            } else {
                try (NDArray there = f.toDevice(e.devices[i], true)) {
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
            factorArray = sessionManager().create(value);
            factorValue = value;
        }
        return factorArray;
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment).
     */
    @Override
    public long clamp(int tensor, double limit) {
        float c = (float) limit;
        written(tensor);
        try (NDManager sub = scratch(tensor)) {
            NDArray g = reducedGradient(tensor, sub);
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

    @Override
    public int unitCount(int tensor) {
        Shape s = entries[tensor].shape;
        return s.dimension() >= 2 ? Math.toIntExact(s.get(0)) : 1;
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        Entry e = entries[tensor];
        if (parameter && e.parameter == null) {
            throw new IllegalStateException("tensor '" + e.name + "' has no parameter values; add it with"
                    + " DjlGradients.Builder.addParameter or addGradient(name, group, gradient, parameter)");
        }
        int units = unitCount(tensor);
        if (units == 0) {
            return;
        }
        if (e.shape.size() == 0) {
            Arrays.fill(out, 0, units, 0.0);
            return;
        }
        if (hostRead[tensor]) {
            NDArray values = parameter ? e.parameterValues() : null;
            if (values == null
                    || values.getDataType() == DataType.FLOAT32 && onHostMemory(values.getDevice(), values)) {
                FloatBuffer b = values == null ? hostView(tensor) : hostBuffer(values);
                long per = e.shape.size() / units;
                for (int u = 0; u < units; u++) {
                    out[u] = hostNorm(b, u * per, per, 2.0);
                }
                return;
            }
        }
        NDArray a = parameter ? e.parameterValues() : summedOrHandle(tensor);
        int[] axes = new int[Math.max(0, e.shape.dimension() - 1)];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        long per = e.shape.size() / units;
        try {
            if (per <= ROW && a.getDataType() == DataType.FLOAT32 && unitNormsInFloat(a, axes, per, units, out)) {
                return;
            }
            try (NDArray x = a.toType(DataType.FLOAT64, false); NDArray norms = x.norm(2, axes, false)) {
                System.arraycopy(norms.toDoubleArray(), 0, out, 0, units);
            }
        } finally {
            if (!parameter) {
                closeIfTemporary(tensor, a);
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

    /**
     * {@inheritDoc}
     *
     * <p>One multiplication by a broadcast {@code float32} factor per unit; where a factor lies
     * outside the normal float range, its unit also gets the exact powers of two of
     * {@link ScaleSteps} (one more broadcast multiplication per step, by 1 for the other units).
     */
    @Override
    public void scaleUnits(int tensor, double[] factors) {
        int units = unitCount(tensor);
        boolean any = false;
        ScaleSteps[] steps = new ScaleSteps[units];
        float[] f = new float[units];
        int up = 0;
        int down = 0;
        for (int u = 0; u < units; u++) {
            steps[u] = ScaleSteps.of(factors[u]);
            f[u] = steps[u].factor();
            up = Math.max(up, steps[u].upSteps());
            down = Math.max(down, steps[u].downSteps());
            any |= factors[u] != 1.0;
        }
        if (!any) {
            return;
        }
        Shape shape = entries[tensor].shape;
        if (shape.dimension() < 2) {
            scale(tensor, factors[0]);
            return;
        }
        written(tensor);
        for (int k = 0; k < up; k++) {
            float[] powers = new float[units];
            for (int u = 0; u < units; u++) {
                powers[u] = k < steps[u].upSteps() ? ScaleSteps.UP : 1f;
            }
            multiplyUnits(tensor, powers);
        }
        // a factor of exactly 1 leaves its unit's bits unchanged, as GradientSet's skipped write does
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
        Shape shape = entries[tensor].shape;
        long[] broadcast = new long[shape.dimension()];
        Arrays.fill(broadcast, 1);
        broadcast[0] = unitFactors.length;
        try (NDArray flat = sessionManager().create(unitFactors); NDArray factorArray = flat.reshape(broadcast)) {
            NDArray[] h = handles(tensor);
            Device[] devices = entries[tensor].devices;
            for (int i = 0; i < h.length; i++) {
                if (devices[i].equals(sessionDevice())) {
                    h[i].muli(factorArray);
                } else {
                    try (NDArray there = factorArray.toDevice(devices[i], true)) {
                        h[i].muli(there);
                    }
                }
            }
        }
    }

    /**
     * Sets every gradient of every copy to zero, so that nothing leaks into the next step when a step
     * is skipped (DJL's PyTorch optimizers clear gradients only when they apply a step).
     */
    public void zeroGradients() {
        for (int t = 0; t < entries.length; t++) {
            written(t);
            try (NDManager sub = scratch(t)) {
                for (NDArray g : gradientCopies(t, sub)) {
                    zero(g, sub);
                }
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DjlGradients[");
        for (int i = 0; i < entries.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(entries[i].name).append(entries[i].shape);
            if (entries[i].copies() > 1) {
                sb.append('x').append(entries[i].copies());
            }
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Handles on the gradient arrays, all owned by the per-call sub-manager.

    /**
     * Releases the native handles this view holds (DJL gradient handles, cached scalars). The view
     * stays usable: it fetches the handles again when next used, so one view can serve every step of
     * a training loop, closed after each. A view dropped without closing is released by a cleaner.
     */
    @Override
    public void close() {
        session.run();
        Arrays.fill(handles, null);
        Arrays.fill(hostViews, null);
        Arrays.fill(reduced, false);
        factorArray = null;
    }

    private NDManager sessionManager() {
        if (session.manager == null || !session.manager.isOpen()) {
            session.manager = anchor(0).getManager().newSubManager(sessionDevice());
        }
        return session.manager;
    }

    /** The device of the session's arrays (factors, results): the first tensor's first copy's. */
    private Device sessionDevice() {
        return entries[0].devices[0];
    }

    private NDArray anchor(int tensor) {
        Entry e = entries[tensor];
        return e.gradientCopies != null ? e.gradientCopies[0] : e.parameterCopy(0);
    }

    /**
     * The gradient arrays of every copy: the arrays given, or handles from DJL's
     * {@code getGradient()}, which makes a new handle each call; those are fetched once per session and
     * owned by the session's manager.
     */
    private NDArray[] handles(int tensor) {
        NDArray[] h = handles[tensor];
        if (h == null) {
            Entry e = entries[tensor];
            if (e.gradientCopies != null) {
                h = e.gradientCopies;
            } else {
                NDManager m = sessionManager();
                h = new NDArray[e.parameterCopies.length];
                for (int i = 0; i < h.length; i++) {
                    h[i] = e.parameterCopy(i).getGradient();
                    h[i].attach(m);
                }
            }
            handles[tensor] = h;
        }
        return h;
    }

    /** The summed gradient as a new array when there are unreduced copies, else the one handle. */
    private NDArray summedOrHandle(int tensor) {
        NDArray[] copies = handles(tensor);
        if (copies.length == 1 || reduced[tensor]) {
            return copies[0];
        }
        Device d = entries[tensor].devices[0];
        NDArray sum = null;
        for (int i = 1; i < copies.length; i++) {
            NDArray other = copies[i].toDevice(d, false);
            try {
                NDArray next = (sum == null ? copies[0] : sum).add(other);
                if (sum != null) {
                    sum.close();
                }
                sum = next;
            } finally {
                if (other != copies[i]) {
                    other.close();
                }
            }
        }
        return sum;
    }

    private void closeIfTemporary(int tensor, NDArray array) {
        if (array != handles(tensor)[0]) {
            array.close();
        }
    }

    /** A manager for one call of a less frequent primitive; everything made in it closes with it. */
    private NDManager scratch(int tensor) {
        NDManager parent = sessionManager();
        return parent.newSubManager(entries[tensor].devices[0]);
    }

    /**
     * The gradient arrays of every copy, attached to {@code sub} for the call, so that the results of
     * operations on them land in {@code sub}; they return to their managers when {@code sub} closes.
     */
    private NDArray[] gradientCopies(int tensor, NDManager sub) {
        NDArray[] h = handles(tensor);
        for (NDArray a : h) {
            a.tempAttach(sub);
        }
        return h;
    }

    /** The gradient as the optimizer will see it: the sum of the copies, on the first copy's device. */
    private NDArray summedGradient(int tensor, NDManager sub) {
        NDArray[] copies = gradientCopies(tensor, sub);
        if (copies.length == 1 || reduced[tensor]) {
            return copies[0];
        }
        NDArray sum = copies[0].add(copies[1].toDevice(copies[0].getDevice(), false));
        for (int i = 2; i < copies.length; i++) {
            sum = sum.add(copies[i].toDevice(copies[0].getDevice(), false));
        }
        return sum;
    }

    /** Moves the sum of all copies into the first copy and zeroes the others; returns the first. */
    private NDArray reducedGradient(int tensor, NDManager sub) {
        NDArray[] copies = gradientCopies(tensor, sub);
        if (copies.length > 1 && !reduced[tensor]) {
            for (int i = 1; i < copies.length; i++) {
                copies[0].addi(copies[i].toDevice(copies[0].getDevice(), false));
                zero(copies[i], sub);
            }
            reduced[tensor] = true;
        }
        return copies[0];
    }

    private static void zero(NDArray g, NDManager sub) {
        if (g.size() == 0) {
            return;
        }
        // multiplying by 0 would keep NaN and turn ∞ into NaN; a full mask writes true zeros
        g.set(g.getManager().ones(g.getShape(), DataType.BOOLEAN, g.getDevice()), 0f);
    }

    private static long count(NDArray mask) {
        return mask.countNonzero().toType(DataType.INT64, false).toLongArray()[0];
    }

    private static NDArray nonFiniteMask(NDArray g) {
        return g.isNaN().logicalOr(g.isInfinite());
    }

    /**
     * Builds a {@link DjlGradients} from NDArrays. Names must be unique; all copies of a tensor must
     * have one shape. Nothing is copied: clipping writes into the gradients of the arrays given.
     */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private boolean hostReads = true;

        private Builder() {
        }

        /**
         * Adds a parameter whose gradient ({@link NDArray#getGradient()}) is clipped, with one array
         * per device copy; the gradient is the sum over the copies.
         *
         * @param name   unique name
         * @param group  the group (layer)
         * @param copies the parameter's arrays, one per device, at least one; the first is also used
         *               as the parameter values (for AGC)
         * @return this builder
         * @throws IllegalArgumentException if the name repeats, no copy is given, a copy has no
         *                                  gradient or the copies' shapes differ
         */
        public Builder addParameter(String name, String group, NDArray... copies) {
            check(name, group, copies);
            for (NDArray c : copies) {
                if (!c.hasGradient()) {
                    throw new IllegalArgumentException("parameter '" + name + "' has no gradient attached;"
                            + " call setRequiresGradient(true) on it (DJL blocks do this for trainable parameters)");
                }
            }
            entries.add(new Entry(name, group, copies[0].getShape(), copies.clone(), null, copies[0], null,
                    devices(copies)));
            return this;
        }

        /**
         * Adds a gradient array, with or without its parameter values.
         *
         * @param name      unique name
         * @param group     the group (layer)
         * @param gradient  the gradient, clipped in place
         * @param parameter the parameter values of the same shape (for AGC), or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if the name repeats or the shapes differ
         */
        public Builder addGradient(String name, String group, NDArray gradient, NDArray parameter) {
            return addGradients(name, group, new NDArray[] {gradient}, parameter);
        }

        /**
         * Adds a gradient held as several device copies (whose sum is the gradient).
         *
         * @param name      unique name
         * @param group     the group (layer)
         * @param copies    the gradient arrays, one per device, at least one
         * @param parameter the parameter values of the same shape (for AGC), or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if the name repeats, no copy is given or the shapes differ
         */
        public Builder addGradients(String name, String group, NDArray[] copies, NDArray parameter) {
            check(name, group, copies);
            if (parameter != null && !parameter.getShape().equals(copies[0].getShape())) {
                throw new IllegalArgumentException("tensor '" + name + "' has gradient shape " + copies[0].getShape()
                        + " but parameter shape " + parameter.getShape());
            }
            entries.add(new Entry(name, group, copies[0].getShape(), null, copies.clone(), parameter, null,
                    devices(copies)));
            return this;
        }

        /** Devices are read once here: each read is a native call, too slow for every step. */
        private static Device[] devices(NDArray[] copies) {
            Device[] d = new Device[copies.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = copies[i].getDevice();
            }
            return d;
        }

        private void check(String name, String group, NDArray[] copies) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(copies, "copies");
            if (copies.length == 0) {
                throw new IllegalArgumentException("tensor '" + name + "' needs at least one array, got none");
            }
            for (NDArray c : copies) {
                Objects.requireNonNull(c, () -> "an array of tensor '" + name + "'");
                if (!c.getShape().equals(copies[0].getShape())) {
                    throw new IllegalArgumentException("tensor '" + name + "' has copies of different shapes: "
                            + copies[0].getShape() + " and " + c.getShape());
                }
                if (c.getDataType() != DataType.FLOAT32) {
                    throw new IllegalArgumentException("tensor '" + name + "' is " + c.getDataType()
                            + "; gradclip clips float32 gradients");
                }
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("tensor name '" + name + "' is used twice; names must be unique");
            }
        }

        /**
         * Whether small CPU tensors may be read in place on the host (the default); {@code false}
         * sends every read through NDArray operations, so tests can check both paths.
         */
        Builder hostReads(boolean allowed) {
            this.hostReads = allowed;
            return this;
        }

        /** @return the gradients, over the arrays given (not copies) */
        public DjlGradients build() {
            return new DjlGradients(entries, hostReads);
        }
    }
}
