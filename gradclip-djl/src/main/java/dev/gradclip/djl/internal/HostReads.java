package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.util.NativeResource;
import java.nio.FloatBuffer;

/**
 * Reads tensors on the PyTorch engine's CPU device where they live, through the direct buffer that
 * DJL's {@link NDArray#toByteBuffer(boolean) toByteBuffer(true)} gives over the tensor's own memory
 * (no copy), and sums them in {@code double} on the host: a native operation costs microseconds
 * however small its tensor, which is most of the time a small model spends clipping. Not public API.
 */
public final class HostReads {

    /** Tensors of at most this many elements on the CPU are read in place. */
    public static final long MAX_ELEMENTS = 4096;

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
     * native tensor the view was taken from.
     *
     * @param array  the array it was taken from
     * @param nativeHandle the array's native handle when the view was taken, or null if it has none
     * @param floats the floats
     */
    public record View(NDArray array, Object nativeHandle, FloatBuffer floats) {

        /**
         * @param array a float32 array on the host
         * @return a view over its memory (over a contiguous copy when the array is not contiguous)
         * @throws IllegalStateException if the array is closed
         */
        public static View of(NDArray array) {
            FloatBuffer floats = array.toByteBuffer(true).asFloatBuffer();
            return new View(array, handleOf(array), floats);
        }

        /**
         * @param current the tensor's array now
         * @return whether this view may still be read for it: the same array, open, holding the same
         *         native tensor (DJL's {@code intern} swaps it)
         */
        public boolean validFor(NDArray current) {
            return current == array && !array.isReleased() && handleOf(array) == nativeHandle;
        }

        private static Object handleOf(NDArray array) {
            return array instanceof NativeResource<?> r && !array.isReleased() ? r.getHandle() : null;
        }
    }

    /**
     * The p-norm of {@code count} floats of a host buffer from {@code from}, in {@code double}: the
     * squares of floats cannot overflow it, and a NaN or infinity gives NaN or ∞ as the device paths
     * do. A generic p divides by the largest magnitude first, so no power overflows.
     *
     * @param b     the floats
     * @param from  first index
     * @param count how many
     * @param p     the norm's order, at least 1 (∞ for the largest magnitude)
     * @return the norm
     */
    public static double norm(FloatBuffer b, long from, long count, double p) {
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
     * The 2-norm of each of {@code units} equal consecutive parts of a host buffer.
     *
     * @param b     the floats
     * @param units the number of units
     * @param per   elements per unit
     * @param out   receives the norms
     */
    public static void unitNorms(FloatBuffer b, int units, long per, double[] out) {
        for (int u = 0; u < units; u++) {
            out[u] = norm(b, u * per, per, 2.0);
        }
    }
}
