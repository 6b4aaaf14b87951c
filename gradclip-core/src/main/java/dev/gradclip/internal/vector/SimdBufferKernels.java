package dev.gradclip.internal.vector;

import dev.gradclip.internal.BufferKernels;
import dev.gradclip.internal.ScalarBufferKernels;
import java.nio.ByteBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BufferKernels} on {@code jdk.incubator.vector}, with {@link FloatVector#fromByteBuffer} and
 * {@link FloatVector#intoByteBuffer} (Java 17's way to load vectors from off-heap memory): the same
 * loops, blocks and exact fallbacks as {@link SimdKernels}, so a sum over a buffer rounds exactly as
 * the sum over an array of the same floats. Loaded reflectively, only when the vector module is
 * readable. Not public API.
 */
public final class SimdBufferKernels implements BufferKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = F.withLanes(double.class);
    private static final int L = F.length();
    private static final int BLOCK = 32 * L;
    private static final double TINY_PER_ELEMENT = 0x1p-100;

    private final ScalarBufferKernels scalar = ScalarBufferKernels.INSTANCE;

    /** Creates the kernels; fails with a linkage error when the vector module is not readable. */
    public SimdBufferKernels() {
    }

    @Override
    public String name() {
        return "simd";
    }

    private static FloatVector load(ByteBuffer b, int i) {
        return FloatVector.fromByteBuffer(F, b, 4 * i, b.order());
    }

    @Override
    public double sumOfSquares(ByteBuffer b, int from, int to) {
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
        int i = from;
        while (to - i >= BLOCK) {
            int end = i + BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                    s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = i; j < end; j += 4 * L) {
                FloatVector v0 = load(b, j);
                FloatVector v1 = load(b, j + L);
                FloatVector v2 = load(b, j + 2 * L);
                FloatVector v3 = load(b, j + 3 * L);
                s0 = v0.fma(v0, s0);
                s1 = v1.fma(v1, s1);
                s2 = v2.fma(v2, s2);
                s3 = v3.fma(v3, s3);
            }
            FloatVector s = s0.add(s1).add(s2.add(s3));
            d0 = d0.add(s.convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add(s.convertShape(VectorOperators.F2D, D, 1));
            i = end;
        }
        double total = d0.add(d1).reduceLanes(VectorOperators.ADD);
        if (Double.isNaN(total)) {
            return total;
        }
        total += scalar.sumOfSquares(b, i, to);
        if (!(total <= Double.MAX_VALUE && total >= (to - from) * TINY_PER_ELEMENT)) {
            // zero, tiny, overflowing or infinite: measured again exactly in double
            return maxAbs(b, from, to) == 0.0 ? 0.0 : scalar.sumOfSquares(b, from, to);
        }
        return total;
    }

    @Override
    public double sumOfAbs(ByteBuffer b, int from, int to) {
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
        int i = from;
        while (to - i >= BLOCK) {
            int end = i + BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                    s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = i; j < end; j += 4 * L) {
                s0 = s0.add(load(b, j).abs());
                s1 = s1.add(load(b, j + L).abs());
                s2 = s2.add(load(b, j + 2 * L).abs());
                s3 = s3.add(load(b, j + 3 * L).abs());
            }
            FloatVector s = s0.add(s1).add(s2.add(s3));
            d0 = d0.add(s.convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add(s.convertShape(VectorOperators.F2D, D, 1));
            i = end;
        }
        double total = d0.add(d1).reduceLanes(VectorOperators.ADD);
        if (Double.isNaN(total)) {
            return total;
        }
        total += scalar.sumOfAbs(b, i, to);
        // adding magnitudes never underflows, so only overflow needs the exact path
        return total <= Double.MAX_VALUE ? total : scalar.sumOfAbs(b, from, to);
    }

    @Override
    public double maxAbs(ByteBuffer b, int from, int to) {
        int i = from;
        int bound = from + F.loopBound(to - from);
        FloatVector m0 = FloatVector.zero(F), m1 = FloatVector.zero(F);
        for (; i + L < bound; i += 2 * L) {
            m0 = m0.max(load(b, i).abs());
            m1 = m1.max(load(b, i + L).abs());
        }
        for (; i < bound; i += L) {
            m0 = m0.max(load(b, i).abs());
        }
        // lanewise MAX follows Math.max, so a NaN lane stays NaN through the reduction
        double m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        if (Double.isNaN(m)) {
            return m;
        }
        double tail = scalar.maxAbs(b, i, to);
        return Double.isNaN(tail) ? tail : Math.max(m, tail);
    }

    @Override
    public void scale(ByteBuffer b, int from, int to, float factor) {
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            load(b, i).mul(factor).intoByteBuffer(b, 4 * i, b.order());
        }
        scalar.scale(b, i, to, factor);
    }
}
