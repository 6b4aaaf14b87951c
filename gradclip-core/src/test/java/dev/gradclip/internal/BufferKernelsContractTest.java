package dev.gradclip.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.internal.vector.SimdBufferKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void theChosenBufferKernelsAreOfTheKindOfTheChosenArrayKernels() {
        assertThat(BufferKernels.get().name()).isEqualTo(Kernels.get().name());
    }
}
