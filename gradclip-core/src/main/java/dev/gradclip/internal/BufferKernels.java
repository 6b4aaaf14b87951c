package dev.gradclip.internal;

import java.nio.ByteBuffer;

/**
 * The read and scale loops of {@link FloatKernels} over floats held in a {@link ByteBuffer} rather
 * than a {@code float[]}: memory that is not on the Java heap, such as the direct buffer a deep
 * learning framework gives over a tensor's own memory, so that it is measured and scaled in place
 * without a copy. Indices count floats ({@code b.getFloat(4 * i)}), in the buffer's byte order; the
 * buffer's position and limit are ignored. Every method returns what the {@link FloatKernels}
 * method of the same name returns for the same floats in an array (the scalar reference and the
 * SIMD kernels, each with its own rounding), and passes the same contract test. The SIMD sums are
 * bit for bit those of an array when the floats sit at the same alignment: buffer index
 * {@code j + 4} for array index {@code j}, as a heap array's elements sit 16 bytes after its start
 * (see {@code SimdBufferKernels}); elsewhere they agree within the kernels' rounding bound.
 *
 * <p>Two implementations, chosen as {@link Kernels#get()} is ({@link #get()}):
 * {@link ScalarBufferKernels} and {@code dev.gradclip.internal.vector.SimdBufferKernels}, the latter
 * only where the JDK can load vectors from a buffer (JDK 17 and 18 through byte buffers, 22 and
 * later through memory segments; its constructor fails elsewhere). Not public API.
 */
public interface BufferKernels {

    /** @return {@code "scalar"} or {@code "simd"} */
    String name();

    /**
     * @param b    the floats
     * @param from first float index, inclusive
     * @param to   last float index, exclusive
     * @return {@code Σ b_i²} in double, as {@link FloatKernels#sumOfSquares}
     */
    double sumOfSquares(ByteBuffer b, int from, int to);

    /**
     * @param b    the floats
     * @param from first float index, inclusive
     * @param to   last float index, exclusive
     * @return {@code Σ |b_i|} in double, as {@link FloatKernels#sumOfAbs}
     */
    double sumOfAbs(ByteBuffer b, int from, int to);

    /**
     * @param b    the floats
     * @param from first float index, inclusive
     * @param to   last float index, exclusive
     * @return {@code max |b_i|}, NaN if any element is NaN, 0 for an empty range
     */
    double maxAbs(ByteBuffer b, int from, int to);

    /**
     * Multiplies every element by {@code factor}: one float multiplication each.
     *
     * @param b      the floats, writable
     * @param from   first float index, inclusive
     * @param to     last float index, exclusive
     * @param factor the factor
     */
    void scale(ByteBuffer b, int from, int to, float factor);

    /**
     * Multiplies every element by a {@code double} factor in the steps of {@link ScaleSteps}, as
     * {@link FloatKernels#scaleInSteps}.
     *
     * @param b      the floats, writable
     * @param from   first float index, inclusive
     * @param to     last float index, exclusive
     * @param factor the factor
     */
    default void scaleInSteps(ByteBuffer b, int from, int to, double factor) {
        ScaleSteps s = ScaleSteps.of(factor);
        for (int i = 0; i < s.upSteps(); i++) {
            scale(b, from, to, ScaleSteps.UP);
        }
        scale(b, from, to, s.factor());
        for (int i = 0; i < s.downSteps(); i++) {
            scale(b, from, to, ScaleSteps.DOWN);
        }
    }

    /** @return the buffer kernels of the same kind as {@link Kernels#get()} */
    static BufferKernels get() {
        return Chosen.KERNELS;
    }

    /** Holds the choice, made once. Not public API. */
    final class Chosen {
        static final BufferKernels KERNELS = choose();

        private Chosen() {
        }

        private static BufferKernels choose() {
            if (!"simd".equals(Kernels.get().name())) {
                return ScalarBufferKernels.INSTANCE;
            }
            try {
                return (BufferKernels) Class.forName("dev.gradclip.internal.vector.SimdBufferKernels")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                return ScalarBufferKernels.INSTANCE;
            }
        }
    }
}
