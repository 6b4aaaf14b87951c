package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.util.NativeResource;
import dev.gradclip.internal.BufferKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads and scales tensors on the PyTorch engine's CPU device where they live, through the direct
 * buffer that DJL's {@link NDArray#toByteBuffer(boolean) toByteBuffer(true)} gives over the tensor's
 * own memory (no copy; DJL 0.36's {@code JniUtils.getByteBuffer} wraps the contiguous tensor's data
 * pointer), with gradclip-core's {@link BufferKernels} (SIMD when the vector module is readable): one
 * pass over the memory, where NDArray operations cost a native call, a dispatch and an allocation per
 * tensor, microseconds however small the tensor.
 *
 * <p>A non-contiguous tensor is exposed by DJL through a contiguous copy, which a write would not
 * reach: a {@link View} knows whether writes through it reach the tensor ({@link View#inPlace()},
 * checked once per view by writing a probe through it and reading it back through a second buffer),
 * and only such a view is written. Not public API.
 */
public final class HostReads {

    /** Tensors of at most this many elements on the CPU are read in place: a buffer's byte capacity. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

    private static final BufferKernels KERNELS = BufferKernels.get();

    private HostReads() {
    }

    /**
     * Whether an array's memory is host memory that {@code toByteBuffer(true)} exposes without a copy:
     * the PyTorch engine on the CPU (other engines may copy into a heap buffer).
     *
     * @param d     the array's device
     * @param array the array
     * @return whether it can be read in place
     */
    public static boolean onHostMemory(Device d, NDArray array) {
        return Device.Type.CPU.equals(d.getDeviceType())
                && "PyTorch".equals(array.getManager().getEngine().getEngineName());
    }

    /**
     * A view of an array's floats on the host, valid while the array is open and still holds the
     * native tensor the view was taken from ({@link #validFor}).
     */
    public static final class View {
        private final NDArray array;
        private final Object nativeHandle;
        private final ByteBuffer bytes;
        private int inPlace = -1;

        private View(NDArray array, Object nativeHandle, ByteBuffer bytes) {
            this.array = array;
            this.nativeHandle = nativeHandle;
            this.bytes = bytes;
        }

        /**
         * @param array a float32 array on the host
         * @return a view over its memory (over a contiguous copy when the array is not contiguous)
         * @throws IllegalStateException if the array is closed
         */
        public static View of(NDArray array) {
            ByteBuffer bytes = array.toByteBuffer(true);
            return new View(array, handleOf(array), bytes.order(ByteOrder.nativeOrder()));
        }

        /** @return the floats, in native byte order */
        public ByteBuffer bytes() {
            return bytes;
        }

        /**
         * @param current the tensor's array now
         * @return whether this view may still be used for it: the same array, open, holding the same
         *         native tensor (DJL's {@code intern} swaps it)
         */
        public boolean validFor(NDArray current) {
            return current == array && !array.isReleased() && handleOf(array) == nativeHandle;
        }

        /**
         * Whether writes through this view reach the tensor: a writable direct buffer that aliases the
         * memory a second {@code toByteBuffer(true)} exposes (a non-contiguous tensor gets a new copy
         * each time). The probe writes the complement of the first element's bits and restores them.
         *
         * @return whether the view is the tensor's own memory
         */
        public boolean inPlace() {
            if (inPlace < 0) {
                inPlace = probe() ? 1 : 0;
            }
            return inPlace == 1;
        }

        private boolean probe() {
            return aliases(bytes, array.toByteBuffer(true));
        }
    }

    /**
     * Whether two arrays expose the same host memory through {@code toByteBuffer(true)}: a write
     * through the first's buffer is read through the second's (see {@link View#inPlace()}).
     *
     * @param a an array on the host
     * @param b another
     * @return whether they are views of one tensor's memory
     */
    public static boolean sameMemory(NDArray a, NDArray b) {
        return aliases(a.toByteBuffer(true), b.toByteBuffer(true));
    }

    /**
     * Writes the complement of the first element's bits through {@code first}, reads it through
     * {@code second}, and restores them.
     */
    private static boolean aliases(ByteBuffer first, ByteBuffer second) {
        if (!first.isDirect() || first.isReadOnly() || first.capacity() < Float.BYTES || !second.isDirect()
                || second.capacity() != first.capacity()) {
            return false;
        }
        int old = first.getInt(0);
        first.putInt(0, ~old);
        boolean same = second.getInt(0) == ~old;
        first.putInt(0, old);
        return same;
    }

    /**
     * @param array an array
     * @return its native handle (compared by identity: DJL's {@code intern} swaps it), null when
     *         released or not native
     */
    public static Object handleOf(NDArray array) {
        return array instanceof NativeResource<?> r && !array.isReleased() ? r.getHandle() : null;
    }

    /**
     * The p-norm of {@code count} floats of a host buffer from {@code from}: p = 1, 2 and ∞ with the
     * {@link BufferKernels} (sums in {@code double}, or float blocks widened to {@code double} within
     * 6e-7 relative, with the exact fallbacks of gradclip-core's kernels), any other p in
     * {@code double} after dividing by the largest magnitude, so no power overflows. A NaN gives NaN,
     * an infinity ∞, as the device paths do.
     *
     * @param b     the floats
     * @param from  first index
     * @param count how many
     * @param p     the norm's order, at least 1 (∞ for the largest magnitude)
     * @return the norm
     */
    public static double norm(ByteBuffer b, long from, long count, double p) {
        int start = Math.toIntExact(from);
        int end = Math.toIntExact(from + count);
        if (p == 2.0) {
            return Math.sqrt(KERNELS.sumOfSquares(b, start, end));
        }
        if (p == 1.0) {
            return KERNELS.sumOfAbs(b, start, end);
        }
        double max = KERNELS.maxAbs(b, start, end);
        if (p == Double.POSITIVE_INFINITY || max == 0.0 || !Double.isFinite(max)) {
            return max;
        }
        double sum = 0.0;
        for (int i = start; i < end; i++) {
            sum += Math.pow(Math.abs(b.getFloat(4 * i)) / max, p);
        }
        return Math.pow(sum, 1.0 / p) * max;
    }

    /**
     * The 2-norm of each of {@code units} equal consecutive parts of a host buffer.
     *
     * @param b     the floats
     * @param units the number of units
     * @param per   elements per unit
     * @param out   receives the norms
     */
    public static void unitNorms(ByteBuffer b, int units, long per, double[] out) {
        for (int u = 0; u < units; u++) {
            out[u] = norm(b, u * per, per, 2.0);
        }
    }

    /**
     * Multiplies {@code count} floats from {@code from} by a factor, in the steps of
     * {@link dev.gradclip.internal.ScaleSteps}, as gradclip-core's array kernels do.
     *
     * @param b      the floats of an {@link View#inPlace()} view
     * @param from   first index
     * @param count  how many
     * @param factor the factor
     */
    public static void scale(ByteBuffer b, long from, long count, double factor) {
        KERNELS.scaleInSteps(b, Math.toIntExact(from), Math.toIntExact(from + count), factor);
    }
}
