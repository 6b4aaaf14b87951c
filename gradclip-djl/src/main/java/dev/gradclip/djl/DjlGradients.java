package dev.gradclip.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import dev.gradclip.Clipper;
import dev.gradclip.Gradients;
import dev.gradclip.djl.internal.DeviceEdits;
import dev.gradclip.djl.internal.DeviceNorms;
import dev.gradclip.djl.internal.GradientEntry;
import dev.gradclip.djl.internal.GradientHandles;
import dev.gradclip.djl.internal.HostReads;
import dev.gradclip.djl.internal.TrainerParameters;
import dev.gradclip.internal.ScaleSteps;
import java.lang.ref.Cleaner;
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
 * <p><b>On the CPU: in place.</b> On the PyTorch engine's CPU device, a tensor held as one copy
 * (of up to {@value #HOST_READ_MAX} elements, a buffer's capacity) is measured and scaled where it
 * lives, through the direct buffer DJL's {@link NDArray#toByteBuffer(boolean) toByteBuffer(true)}
 * gives over the tensor's own memory (no copy), by gradclip-core's kernels (SIMD when the vector
 * module is readable): norms, AGC's unit norms, {@link #scale} and {@link #scaleUnits} are one pass
 * each over the memory, with no native call per tensor, bit for bit what the same kernels give on a
 * {@code float[]}. A native operation costs microseconds however small its tensor, which is most of
 * the time a small model spends clipping (the RNN of the lab's adding task has six tensors of 1 to
 * 2,500 elements). Non-linear edits ({@link #clamp}, {@link #zeroNonFinite}, {@link #set}) stay
 * NDArray operations, and tensors on other devices or engines take the device path above.
 *
 * <p><b>Stale views.</b> A view over a tensor's memory is used only while it is valid: taken in this
 * session (between {@link #close()} calls) from the array that is still the tensor's gradient, that
 * array not closed and still holding the same native tensor (DJL's {@code intern} replaces it);
 * otherwise it is fetched again, and a gradient array closed by its owner makes the call throw
 * {@link IllegalStateException} rather than read freed memory. The parameter values AGC measures
 * are viewed under the same rules (one view per session, checked against the parameter's current
 * array and native tensor at every use). A non-contiguous gradient, which DJL exposes only through a
 * contiguous copy, is read through that copy and written with NDArray operations: a view is written
 * only after a probe has shown that a write through it reaches the tensor.
 *
 * <p><b>Memory.</b> Every intermediate NDArray a primitive creates is closed before it returns (the
 * frequent primitives close each one as soon as it is used; the others work in a sub-manager closed
 * at the end of the call). The gradient handles DJL's {@link NDArray#getGradient()} makes (a new one
 * per call) are fetched once per session and kept, with the scaling factor, in a sub-manager until
 * {@link #close()}, except the handle of a CPU gradient shown to be the tensor's own memory, which is
 * kept across sessions (one per tensor) and used again only while the parameter array it came from
 * is still the parameter's, open and holding the same native tensor; otherwise it is closed and
 * fetched again. A view dropped without {@code close()} is released by a {@link Cleaner}. A long
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

    /** Tensors of at most this many elements on the CPU are read in place (see the class comment). */
    static final long HOST_READ_MAX = HostReads.MAX_ELEMENTS;

    private final GradientHandles handles;
    private final DeviceNorms deviceNorms;
    private final DeviceEdits edits;
    /** Per tensor: its number of elements (a shape's size is a product computed at each call). */
    private final long[] sizes;

    private DjlGradients(List<GradientEntry> entries, boolean hostReads) {
        this.handles = new GradientHandles(entries, hostReads);
        this.deviceNorms = new DeviceNorms(handles);
        this.edits = new DeviceEdits(handles);
        this.sizes = entries.stream().mapToLong(e -> e.shape().size()).toArray();
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
        ParameterStore store = TrainerParameters.parameterStore(trainer);
        Builder b = builder();
        for (TrainerParameters.Named p : TrainerParameters.trainable(block)) {
            NDArray[] copies = new NDArray[devices.length];
            for (int d = 0; d < devices.length; d++) {
                copies[d] = store.getValue(p.parameter(), devices[d], true);
            }
            b.addParameter(p.name(), p.group(), copies);
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
        for (TrainerParameters.Named p : TrainerParameters.trainable(block)) {
            b.addParameter(p.name(), p.group(), p.parameter().getArray());
            b.entries.add(b.entries.remove(b.entries.size() - 1).following(p.parameter()));
        }
        return b.build();
    }

    @Override
    public int tensorCount() {
        return handles.count();
    }

    @Override
    public String name(int tensor) {
        return handles.entry(tensor).name();
    }

    @Override
    public String group(int tensor) {
        return handles.entry(tensor).group();
    }

    @Override
    public long[] shape(int tensor) {
        return handles.entry(tensor).shape().getShape();
    }

    @Override
    public long size(int tensor) {
        return sizes[tensor];
    }

    @Override
    public boolean hasParameter(int tensor) {
        return handles.entry(tensor).parameter() != null;
    }

    /**
     * @param tensor tensor number
     * @return how many device copies hold a part of this tensor's gradient
     */
    public int copyCount(int tensor) {
        return handles.entry(tensor).copies();
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
     * elements). p = ∞ is exact in {@code float32}. Tensors read on the host (see the class comment)
     * are summed there in {@code double}.
     */
    @Override
    public void norms(double p, double[] out) {
        int n = handles.count();
        if (n == 0) {
            return;
        }
        boolean[] done = new boolean[n];
        int remaining = n;
        for (int t = 0; t < n; t++) {
            if (handles.hostRead(t)) {
                out[t] = HostReads.norm(handles.hostView(t).bytes(), 0, size(t), p);
                done[t] = true;
                remaining--;
            }
        }
        if (remaining > 0) {
            deviceNorms.norms(p, out, done);
        }
    }

    @Override
    public long nonFiniteCount(int tensor) {
        return edits.nonFiniteCount(tensor);
    }

    @Override
    public long firstNonFinite(int tensor) {
        return edits.firstNonFinite(tensor);
    }

    @Override
    public float get(int tensor, long index) {
        return edits.get(tensor, index);
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment), so that the summed gradient holds {@code value} at {@code index}.
     */
    @Override
    public void set(int tensor, long index, float value) {
        edits.set(tensor, index, value);
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment).
     */
    @Override
    public long zeroNonFinite(int tensor) {
        return edits.zeroNonFinite(tensor);
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
        HostReads.View view = inPlaceView(tensor);
        if (view != null) {
            HostReads.scale(view.bytes(), 0, size(tensor), factor);
        } else {
            edits.scale(tensor, factor);
        }
    }

    /** The host view of a tensor whose writes reach the tensor's memory, or null (see the class comment). */
    private HostReads.View inPlaceView(int tensor) {
        if (!handles.hostRead(tensor)) {
            return null;
        }
        HostReads.View view = handles.hostView(tensor);
        return view.inPlace() ? view : null;
    }

    /**
     * {@inheritDoc}
     *
     * <p>With several device copies, the copies are first reduced into the first one (see the class
     * comment).
     */
    @Override
    public long clamp(int tensor, double limit) {
        return edits.clamp(tensor, limit);
    }

    @Override
    public int unitCount(int tensor) {
        long[] s = shape(tensor);
        return s.length >= 2 ? Math.toIntExact(s[0]) : 1;
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        GradientEntry e = handles.entry(tensor);
        if (parameter && e.parameter() == null) {
            throw new IllegalStateException("tensor '" + e.name() + "' has no parameter values; add it with"
                    + " DjlGradients.Builder.addParameter or addGradient(name, group, gradient, parameter)");
        }
        int units = unitCount(tensor);
        if (units == 0) {
            return;
        }
        long size = e.shape().size();
        if (size == 0) {
            Arrays.fill(out, 0, units, 0.0);
            return;
        }
        if (handles.hostRead(tensor)) {
            HostReads.View view = parameter ? handles.parameterView(tensor) : handles.hostView(tensor);
            if (view != null) {
                HostReads.unitNorms(view.bytes(), units, size / units, out);
                return;
            }
        }
        deviceNorms.unitNorms(tensor, parameter, units, out);
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
        for (int u = 0; u < units; u++) {
            any |= factors[u] != 1.0;
        }
        if (!any) {
            return;
        }
        if (shape(tensor).length < 2) {
            scale(tensor, factors[0]);
            return;
        }
        HostReads.View view = inPlaceView(tensor);
        if (view == null) {
            edits.scaleUnits(tensor, Arrays.copyOf(factors, units));
            return;
        }
        long per = size(tensor) / units;
        for (int u = 0; u < units; u++) {
            // a factor of exactly 1 leaves its unit's bits unchanged, as GradientSet's skipped write does
            if (factors[u] != 1.0) {
                HostReads.scale(view.bytes(), u * per, per, factors[u]);
            }
        }
    }

    /**
     * Sets every gradient of every copy to zero, so that nothing leaks into the next step when a step
     * is skipped (DJL's PyTorch optimizers clear gradients only when they apply a step).
     */
    public void zeroGradients() {
        edits.zeroGradients();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DjlGradients[");
        for (int i = 0; i < handles.count(); i++) {
            GradientEntry e = handles.entry(i);
            sb.append(i == 0 ? "" : ", ").append(e.name()).append(e.shape());
            if (e.copies() > 1) {
                sb.append('x').append(e.copies());
            }
        }
        return sb.append(']').toString();
    }

    /**
     * Ends a step: releases the native handles this view holds for the step (DJL gradient handles,
     * cached scalars), except the one handle per CPU gradient that is kept across steps (see
     * <b>Memory</b> in the class comment; it is released with the model's manager, or by a cleaner
     * when the view is dropped). The view stays usable: it fetches or checks the handles again when
     * next used, so one view can serve every step of a training loop, closed after each.
     */
    @Override
    public void close() {
        handles.close();
        edits.forget();
    }

    /**
     * @param tensor tensor number
     * @return whether its gradient handle is kept across steps (for tests)
     */
    boolean keepsHandle(int tensor) {
        return handles.kept(tensor);
    }

    /**
     * Builds a {@link DjlGradients} from NDArrays. Names must be unique; all copies of a tensor must
     * have one shape. Nothing is copied: clipping writes into the gradients of the arrays given.
     */
    public static final class Builder {
        private final List<GradientEntry> entries = new ArrayList<>();
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
            entries.add(new GradientEntry(name, group, copies[0].getShape(), copies.clone(), null, copies[0], null,
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
            entries.add(new GradientEntry(name, group, copies[0].getShape(), null, copies.clone(), parameter, null,
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
