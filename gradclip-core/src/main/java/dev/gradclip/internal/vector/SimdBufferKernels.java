package dev.gradclip.internal.vector;

import dev.gradclip.internal.BufferKernels;
import dev.gradclip.internal.ScalarBufferKernels;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BufferKernels} on {@code jdk.incubator.vector}: the same loops, blocks and exact fallbacks
 * as {@link SimdKernels}, so a sum over a buffer rounds exactly as the sum over an array of the same
 * floats at the same alignment: the vector loops start at a buffer index that is a multiple of the
 * vector length, where {@link SimdKernels} starts at the index where a heap array's elements are
 * aligned (12 modulo 16 on AVX-512, after the array's 16-byte header). The array {@code a} and a
 * buffer holding {@code a[j]} at index {@code j + 4} give the same bits; a tensor's norm read here
 * and the same floats copied into a {@code float[]} agree within the rounding bound of
 * {@link SimdKernels} (3e-7 relative for a norm). Loaded reflectively, only when the vector module
 * is readable. Not public API.
 *
 * <p>Vectors are loaded from the buffer in one of two ways, chosen once: on JDK 17 and 18 with
 * {@code FloatVector.fromByteBuffer} and {@code intoByteBuffer}, which JDK 19 removed; on JDK 22 and
 * later (where {@code java.lang.foreign.MemorySegment} is final) with {@code fromMemorySegment} and
 * {@code intoMemorySegment} over {@code MemorySegment.ofBuffer}, reached through constant method
 * handles so that this class still compiles for Java 17 (the JIT inlines them as direct calls).
 * Where neither exists (JDK 19 to 21 without preview features), {@link #SUPPORTED} is false and
 * {@link BufferKernels#get()} takes the scalar kernels. The byte order is the platform's, a constant
 * that lets the JIT compile each load to one vector move; a buffer in the other order is read and
 * written by the scalar kernels.
 *
 * <p>What the blocks leave of a sum (fewer than four vectors: up to 63 floats on AVX-512, and every
 * float of a range shorter than that, such as a 50-float unit) is added as the scalar reference adds
 * it, four {@code double} accumulators taking every fourth float, but on the four lanes of one
 * {@code double} vector ({@link #laneSumOfSquares}, {@link #laneSumOfAbs}), where 256-bit vectors
 * are native: a float's square is exact in {@code double}, so each lane rounds exactly as its scalar
 * accumulator, and the lanes are combined in the scalar order.
 */
public final class SimdBufferKernels implements BufferKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = F.withLanes(double.class);
    private static final int L = F.length();
    private static final int BLOCK = 32 * L;
    private static final int STEP = 4 * L;
    private static final double TINY_PER_ELEMENT = 0x1p-100;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Four floats, widened into the four accumulators of the scalar loops. */
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D4 = DoubleVector.SPECIES_256;
    /** Whether the scalar loops run on {@link #D4}'s lanes: where 256-bit vectors are native. */
    private static final boolean LANE_LOOPS = F.vectorBitSize() >= 256;

    /** {@code MemorySegment.ofBuffer(ByteBuffer)} as {@code (ByteBuffer)Object}, or null before JDK 22. */
    private static final MethodHandle SEGMENT_OF;
    /** {@code FloatVector.fromMemorySegment} as {@code (VectorSpecies, Object, long, ByteOrder)FloatVector}. */
    private static final MethodHandle LOAD;
    /** {@code FloatVector.intoMemorySegment} as {@code (FloatVector, Object, long, ByteOrder)void}. */
    private static final MethodHandle STORE;
    /** Whether the loads go through memory segments (JDK 22 and later). */
    private static final boolean SEGMENTS;
    /** Whether this JDK has one of the two ways to load vectors from a buffer. */
    public static final boolean SUPPORTED;

    static {
        MethodHandle of = null, load = null, store = null;
        boolean byteBuffers = false;
        try {
            Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
            if (Runtime.version().feature() >= 22) {
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                of = lookup.findStatic(segment, "ofBuffer", MethodType.methodType(segment, Buffer.class))
                        .asType(MethodType.methodType(Object.class, ByteBuffer.class));
                load = lookup.findStatic(FloatVector.class, "fromMemorySegment",
                        MethodType.methodType(FloatVector.class, VectorSpecies.class, segment, long.class,
                                ByteOrder.class))
                        .asType(MethodType.methodType(FloatVector.class, VectorSpecies.class, Object.class,
                                long.class, ByteOrder.class));
                store = lookup.findVirtual(FloatVector.class, "intoMemorySegment",
                        MethodType.methodType(void.class, segment, long.class, ByteOrder.class))
                        .asType(MethodType.methodType(void.class, FloatVector.class, Object.class, long.class,
                                ByteOrder.class));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            of = null;
        }
        if (of == null) {
            try {
                FloatVector.class.getMethod("fromByteBuffer", VectorSpecies.class, ByteBuffer.class, int.class,
                        ByteOrder.class);
                byteBuffers = true;
            } catch (NoSuchMethodException e) {
                byteBuffers = false;
            }
        }
        SEGMENT_OF = of;
        LOAD = load;
        STORE = store;
        SEGMENTS = of != null;
        SUPPORTED = SEGMENTS || byteBuffers;
    }

    private final ScalarBufferKernels scalar = ScalarBufferKernels.INSTANCE;

    /**
     * Creates the kernels; fails with a linkage error when the vector module is not readable, and
     * with {@link UnsupportedOperationException} when this JDK cannot load vectors from a buffer.
     */
    public SimdBufferKernels() {
        if (!SUPPORTED) {
            throw new UnsupportedOperationException("no vector loads from buffers on this JDK");
        }
    }

    @Override
    public String name() {
        return "simd";
    }

    /**
     * The first index at or after {@code from} (and not after {@code to}) where a vector loop over
     * {@code [from, to)} starts: the next multiple of {@code L}. A tensor's memory is aligned at its
     * start (libtorch aligns its CPU allocations to 64 bytes), so from there each vector load and
     * store covers one aligned run rather than two cache lines, as {@code SimdKernels} starts where
     * a heap array's elements are aligned. The elements before it are done by the scalar kernels.
     */
    private static int vectorStart(int from, int to) {
        return Math.min(to, from + Math.floorMod(-from, L));
    }

    /** The length of the block at {@code i}, as {@code SimdKernels.blockLength}: whole steps of four vectors. */
    private static int blockLength(int i, int to) {
        return Math.min(BLOCK, (to - i) & -STEP);
    }

    /** The memory to load from: the buffer itself, or a memory segment over it. */
    private static Object memory(ByteBuffer b) {
        if (!SEGMENTS) {
            return b;
        }
        try {
            return (Object) SEGMENT_OF.invokeExact(b);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static FloatVector load(Object m, int i) {
        if (!SEGMENTS) {
            return FloatVector.fromByteBuffer(F, (ByteBuffer) m, 4 * i, NATIVE);
        }
        try {
            return (FloatVector) LOAD.invokeExact(F, m, 4L * i, NATIVE);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Four floats from index {@code i}, widened to {@code double} (a constant species, as in {@link #load}). */
    private static DoubleVector loadWide(Object m, int i) {
        FloatVector v;
        if (!SEGMENTS) {
            v = FloatVector.fromByteBuffer(F4, (ByteBuffer) m, 4 * i, NATIVE);
        } else {
            try {
                v = (FloatVector) LOAD.invokeExact(F4, m, 4L * i, NATIVE);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D4, 0);
    }

    /**
     * {@link ScalarBufferKernels#sumOfSquares}, bit for bit, with its four accumulators on the lanes
     * of one {@code double} vector: lane {@code k} adds the squares of floats {@code from + k},
     * {@code from + k + 4}, … in the scalar loop's order (the square of a float is exact in
     * {@code double}, so each addition rounds as the scalar one does), the last {@code (to - from) % 4}
     * go to the first accumulator, and the four are added as {@code (s0 + s1) + (s2 + s3)}.
     */
    private double laneSumOfSquares(ByteBuffer b, Object m, int from, int to) {
        if (!LANE_LOOPS) {
            return scalar.sumOfSquares(b, from, to);
        }
        DoubleVector s = DoubleVector.zero(D4);
        int i = from;
        for (; i + 3 < to; i += 4) {
            DoubleVector x = loadWide(m, i);
            s = s.add(x.mul(x));
        }
        double s0 = s.lane(0);
        for (; i < to; i++) {
            double x = b.getFloat(4 * i);
            s0 += x * x;
        }
        return (s0 + s.lane(1)) + (s.lane(2) + s.lane(3));
    }

    /** {@link ScalarBufferKernels#sumOfAbs}, bit for bit, on vector lanes as {@link #laneSumOfSquares}. */
    private double laneSumOfAbs(ByteBuffer b, Object m, int from, int to) {
        if (!LANE_LOOPS) {
            return scalar.sumOfAbs(b, from, to);
        }
        DoubleVector s = DoubleVector.zero(D4);
        int i = from;
        for (; i + 3 < to; i += 4) {
            s = s.add(loadWide(m, i).abs());
        }
        double s0 = s.lane(0);
        for (; i < to; i++) {
            s0 += Math.abs(b.getFloat(4 * i));
        }
        return (s0 + s.lane(1)) + (s.lane(2) + s.lane(3));
    }

    private static void store(FloatVector v, Object m, int i) {
        if (!SEGMENTS) {
            v.intoByteBuffer((ByteBuffer) m, 4 * i, NATIVE);
            return;
        }
        try {
            STORE.invokeExact(v, m, 4L * i, NATIVE);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public double sumOfSquares(ByteBuffer b, int from, int to) {
        if (b.order() != NATIVE) {
            return scalar.sumOfSquares(b, from, to);
        }
        Object m = memory(b);
        int i = vectorStart(from, to);
        double total = laneSumOfSquares(b, m, from, i);
        for (int n = blockLength(i, to); n > 0; n = blockLength(i, to)) {
            double block = blockSumOfSquares(m, i, i + n);
            if (Double.isNaN(block)) {
                return block;
            }
            total += block;
            i += n;
        }
        total += laneSumOfSquares(b, m, i, to);
        if (!(total <= Double.MAX_VALUE && total >= (to - from) * TINY_PER_ELEMENT)) {
            // zero, tiny, overflowing or infinite: measured again exactly in double
            return maxAbs(b, from, to) == 0.0 ? 0.0 : laneSumOfSquares(b, m, from, to);
        }
        return total;
    }

    /** One block's squares, as {@code SimdKernels.blockSumOfSquares} sums them. */
    private static double blockSumOfSquares(Object m, int i, int end) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        for (int j = i; j < end; j += STEP) {
            FloatVector v0 = load(m, j);
            FloatVector v1 = load(m, j + L);
            FloatVector v2 = load(m, j + 2 * L);
            FloatVector v3 = load(m, j + 3 * L);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
            s2 = v2.fma(v2, s2);
            s3 = v3.fma(v3, s3);
        }
        FloatVector s = s0.add(s1).add(s2.add(s3));
        return ((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0))
                .add(s.convertShape(VectorOperators.F2D, D, 1)).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public double sumOfAbs(ByteBuffer b, int from, int to) {
        if (b.order() != NATIVE) {
            return scalar.sumOfAbs(b, from, to);
        }
        Object m = memory(b);
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
        int head = vectorStart(from, to);
        int i = head;
        for (int n = blockLength(i, to); n > 0; n = blockLength(i, to)) {
            int end = i + n;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                    s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = i; j < end; j += 4 * L) {
                s0 = s0.add(load(m, j).abs());
                s1 = s1.add(load(m, j + L).abs());
                s2 = s2.add(load(m, j + 2 * L).abs());
                s3 = s3.add(load(m, j + 3 * L).abs());
            }
            FloatVector s = s0.add(s1).add(s2.add(s3));
            d0 = d0.add(s.convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add(s.convertShape(VectorOperators.F2D, D, 1));
            i = end;
        }
        double total = laneSumOfAbs(b, m, from, head) + d0.add(d1).reduceLanes(VectorOperators.ADD);
        if (Double.isNaN(total)) {
            return total;
        }
        total += laneSumOfAbs(b, m, i, to);
        // adding magnitudes never underflows, so only overflow needs the exact path
        return total <= Double.MAX_VALUE ? total : laneSumOfAbs(b, m, from, to);
    }

    @Override
    public double maxAbs(ByteBuffer b, int from, int to) {
        if (b.order() != NATIVE) {
            return scalar.maxAbs(b, from, to);
        }
        Object m = memory(b);
        int i = vectorStart(from, to);
        double head = scalar.maxAbs(b, from, i);
        if (Double.isNaN(head)) {
            return head;
        }
        int bound = i + F.loopBound(to - i);
        FloatVector m0 = FloatVector.zero(F), m1 = FloatVector.zero(F);
        for (; i + L < bound; i += 2 * L) {
            m0 = m0.max(load(m, i).abs());
            m1 = m1.max(load(m, i + L).abs());
        }
        for (; i < bound; i += L) {
            m0 = m0.max(load(m, i).abs());
        }
        // lanewise MAX follows Math.max, so a NaN lane stays NaN through the reduction
        double max = Math.max(head, m0.max(m1).reduceLanes(VectorOperators.MAX));
        if (Double.isNaN(max)) {
            return max;
        }
        double tail = scalar.maxAbs(b, i, to);
        return Double.isNaN(tail) ? tail : Math.max(max, tail);
    }

    @Override
    public void scale(ByteBuffer b, int from, int to, float factor) {
        if (b.order() != NATIVE) {
            scalar.scale(b, from, to, factor);
            return;
        }
        Object m = memory(b);
        int i = vectorStart(from, to);
        scalar.scale(b, from, i, factor);
        int bound = i + F.loopBound(to - i);
        for (; i < bound; i += L) {
            store(load(m, i).mul(factor), m, i);
        }
        scalar.scale(b, i, to, factor);
    }
}
