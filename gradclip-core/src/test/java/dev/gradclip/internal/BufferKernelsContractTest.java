package dev.gradclip.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.internal.vector.SimdBufferKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link BufferKernels} over a direct buffer return, bit for bit, what the {@link FloatKernels} of
 * the same kind return over an array of the same floats laid out as the heap lays out the array,
 * on every case of
 * {@link FloatKernelsContractTest} (awkward lengths, offsets, tiny, huge, subnormal and mixed
 * values), and touch nothing outside their range; so the buffer kernels inherit that test's
 * accuracy contract.
 *
 * <p>"Laid out as the heap lays it out": the SIMD array kernels start their vector loops where a
 * large array's elements are aligned, after its 16-byte header (index 12 modulo 16 on AVX-512), the
 * buffer kernels at the buffer's start (a tensor's memory is aligned there); both sum in blocks
 * from those points. So array element {@code j} sits at buffer index {@code j + }{@value #SHIFT},
 * as it sits {@value #SHIFT} floats after the array object's start, and the ranges are shifted
 * alike. The scalar kernels do not depend on the shift.
 */
class BufferKernelsContractTest {

    /** Floats before element 0 of a {@code float[]} on the heap: its 16-byte header. */
    static final int SHIFT = 4;

    /** Pairs of buffer and array kernels of one kind: scalar, and SIMD when the module is readable. */
    static Stream<Arguments> pairs() {
        List<Arguments> list = new ArrayList<>();
        list.add(Arguments.of(Named.of("scalar", ScalarBufferKernels.INSTANCE), ScalarKernels.INSTANCE));
        if (Kernels.vectorModuleAvailable()) {
            list.add(Arguments.of(Named.of("simd", newSimd()), KernelsUnderTest.simd()));
        }
        return list.stream();
    }

    private static BufferKernels newSimd() {
        return new SimdBufferKernels();
    }

    private static ByteBuffer direct(float[] a) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * (SHIFT + a.length)).order(ByteOrder.nativeOrder());
        for (int i = 0; i < SHIFT; i++) {
            b.putFloat(4 * i, Float.NaN); // outside every range: a read of it would show
        }
        for (int i = 0; i < a.length; i++) {
            b.putFloat(4 * (SHIFT + i), a[i]);
        }
        return b;
    }

    private static int[] bits(ByteBuffer b, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getInt(4 * (SHIFT + i));
        }
        return out;
    }

    private static int[] bits(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Float.floatToRawIntBits(a[i]);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void readsAndScalesAsTheArrayKernelsDo(BufferKernels buffers, FloatKernels arrays) {
        for (FloatKernelsContractTest.Case c : FloatKernelsContractTest.cases(41)) {
            ByteBuffer b = direct(c.a());
            int from = SHIFT + c.from(), to = SHIFT + c.to();
            assertThat(buffers.sumOfSquares(b, from, to)).as("sumOfSquares %s", c)
                    .isEqualTo(arrays.sumOfSquares(c.a(), c.from(), c.to()));
            assertThat(buffers.sumOfAbs(b, from, to)).as("sumOfAbs %s", c)
                    .isEqualTo(arrays.sumOfAbs(c.a(), c.from(), c.to()));
            assertThat(buffers.maxAbs(b, from, to)).as("maxAbs %s", c)
                    .isEqualTo(arrays.maxAbs(c.a(), c.from(), c.to()));
            for (double factor : new double[] {0.37, 1e-40, 3e38}) {
                float[] a = c.a().clone();
                ByteBuffer scaled = direct(a);
                arrays.scaleInSteps(a, c.from(), c.to(), factor);
                buffers.scaleInSteps(scaled, from, to, factor);
                assertThat(bits(scaled, a.length)).as("scale by %s %s", factor, c).isEqualTo(bits(a));
            }
        }
    }

    /**
     * Every length up to two and a half blocks of the widest SIMD kernels (512 floats on AVX-512), so
     * every head and tail the blocks can leave, at offsets 0 to 16 (laid out as the heap lays out the
     * array, as above): the sums equal the array kernels' bit for bit
     * on values of mixed magnitudes (whose sums round differently in any other order), on tiny ones
     * (the exact fallback over the whole range) and with a NaN or an infinity in the tail.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void sumsEqualTheArrayKernelsForEveryTailLength(BufferKernels buffers, FloatKernels arrays) {
        Random r = new Random(15);
        for (int n = 0; n <= 1300; n++) {
            int off = n % 17;
            for (int kind = 0; kind < 3; kind++) {
                float[] a = new float[off + n + FloatKernelsContractTest.PAD];
                Arrays.fill(a, Float.NaN);
                for (int i = off; i < off + n; i++) {
                    double magnitude = kind == 1 ? 1e-25 : Math.pow(10, -3 + 6 * r.nextDouble());
                    a[i] = (float) (r.nextGaussian() * magnitude);
                }
                if (kind == 2 && n > 0) {
                    a[off + n - 1 - r.nextInt(Math.min(n, 3))] = r.nextBoolean() ? Float.NaN
                            : Float.NEGATIVE_INFINITY;
                }
                ByteBuffer b = direct(a);
                int from = SHIFT + off;
                String what = "length " + n + " from " + off + " kind " + kind;
                assertThat(Double.doubleToLongBits(buffers.sumOfSquares(b, from, from + n))).as("sumOfSquares %s", what)
                        .isEqualTo(Double.doubleToLongBits(arrays.sumOfSquares(a, off, off + n)));
                assertThat(Double.doubleToLongBits(buffers.sumOfAbs(b, from, from + n))).as("sumOfAbs %s", what)
                        .isEqualTo(Double.doubleToLongBits(arrays.sumOfAbs(a, off, off + n)));
            }
        }
    }

    @Test
    void theChosenBufferKernelsAreOfTheKindOfTheChosenArrayKernels() {
        assertThat(BufferKernels.get().name()).isEqualTo(Kernels.get().name());
    }
}
