package dev.gradclip.internal.vector;

import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.ScalarKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on {@code jdk.incubator.vector}, loaded reflectively by {@code Kernels} only when the
 * module is readable, as Lucene isolates its Panama provider. Bodies run on the preferred species
 * up to {@code loopBound}, with several accumulators, and finish with a scalar tail.
 *
 * <p>Sum of squares, the hot loop of every norm-based clip, squares in {@code float} with fused
 * multiply-add (one rounding per element) into four vector accumulators, in blocks of
 * {@value #BLOCK} elements whose partial sums are added in {@code double}. That keeps one thread at
 * memory speed while staying within about 4e-7 of the exact sum. A block whose float sum could be
 * wrong is measured again exactly in {@code double}: one that overflowed (an element above about
 * 1.8e19) and one so small (below {@value #TINY}) that squares of tiny elements may have
 * underflowed. Not public API.
 */
public final class SimdKernels implements FloatKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Elements per block: 8 fused adds per accumulator lane keep the float error small. */
    private static final int BLOCK = 32 * L;
    /** Block sums below this are recomputed in double (squares of tiny floats lose bits). */
    private static final double TINY = 1e-30;

    private final ScalarKernels scalar = ScalarKernels.INSTANCE;

    /** Creates the kernels; fails with a linkage error when the vector module is not readable. */
    public SimdKernels() {
    }

    @Override
    public String name() {
        return "simd";
    }

    @Override
    public double sumOfSquares(float[] a, int from, int to) {
        double total = 0;
        int i = from;
        while (to - i >= BLOCK) {
            int end = i + BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                    s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = i; j < end; j += 4 * L) {
                FloatVector v0 = FloatVector.fromArray(F, a, j);
                FloatVector v1 = FloatVector.fromArray(F, a, j + L);
                FloatVector v2 = FloatVector.fromArray(F, a, j + 2 * L);
                FloatVector v3 = FloatVector.fromArray(F, a, j + 3 * L);
                s0 = v0.fma(v0, s0);
                s1 = v1.fma(v1, s1);
                s2 = v2.fma(v2, s2);
                s3 = v3.fma(v3, s3);
            }
            double block = ((double) s0.reduceLanes(VectorOperators.ADD) + s1.reduceLanes(VectorOperators.ADD))
                    + ((double) s2.reduceLanes(VectorOperators.ADD) + s3.reduceLanes(VectorOperators.ADD));
            if (!(block >= TINY && block <= Float.MAX_VALUE)) {
                block = exactSumOfSquares(a, i, end);
            }
            total += block;
            i = end;
        }
        return total + scalar.sumOfSquares(a, i, to);
    }

    /** The exact path for a block: zero, tiny, overflowing or non-finite. */
    private double exactSumOfSquares(float[] a, int from, int to) {
        if (maxAbs(a, from, to) == 0.0) {
            return 0.0;
        }
        return scalar.sumOfSquares(a, from, to);
    }

    @Override
    public double sumOfAbs(float[] a, int from, int to) {
        double total = 0;
        int i = from;
        while (to - i >= BLOCK) {
            int end = i + BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
            for (int j = i; j < end; j += 2 * L) {
                s0 = s0.add(FloatVector.fromArray(F, a, j).abs());
                s1 = s1.add(FloatVector.fromArray(F, a, j + L).abs());
            }
            double block = (double) s0.reduceLanes(VectorOperators.ADD) + s1.reduceLanes(VectorOperators.ADD);
            if (!(block <= Float.MAX_VALUE)) {
                block = scalar.sumOfAbs(a, i, end);
            }
            total += block;
            i = end;
        }
        return total + scalar.sumOfAbs(a, i, to);
    }

    @Override
    public double maxAbs(float[] a, int from, int to) {
        int i = from;
        int bound = from + F.loopBound(to - from);
        FloatVector m0 = FloatVector.zero(F), m1 = FloatVector.zero(F);
        for (; i + L < bound; i += 2 * L) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).abs());
            m1 = m1.max(FloatVector.fromArray(F, a, i + L).abs());
        }
        for (; i < bound; i += L) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).abs());
        }
        // lanewise MAX follows Math.max, so a NaN lane stays NaN through the reduction
        double m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        if (Double.isNaN(m)) {
            return m;
        }
        double tail = scalar.maxAbs(a, i, to);
        return Double.isNaN(tail) ? tail : Math.max(m, tail);
    }

    @Override
    public double sumOfScaledPowers(float[] a, int from, int to, double p, double scale) {
        return scalar.sumOfScaledPowers(a, from, to, p, scale);
    }

    @Override
    public void scale(float[] a, int from, int to, float factor) {
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, a, i).mul(factor).intoArray(a, i);
        }
        scalar.scale(a, i, to, factor);
    }

    @Override
    public long clamp(float[] a, int from, int to, float limit) {
        long changed = 0;
        float low = -limit;
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, i);
            VectorMask<Float> out = v.compare(VectorOperators.GT, limit).or(v.compare(VectorOperators.LT, low));
            if (out.anyTrue()) { // write only the vectors that change
                changed += out.trueCount();
                v.max(low).min(limit).intoArray(a, i);
            }
        }
        return changed + scalar.clamp(a, i, to, limit);
    }

    @Override
    public int firstNonFinite(float[] a, int from, int to) {
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            VectorMask<Float> bad = nonFinite(FloatVector.fromArray(F, a, i));
            if (bad.anyTrue()) {
                return i + bad.firstTrue();
            }
        }
        return scalar.firstNonFinite(a, i, to);
    }

    @Override
    public long countNonFinite(float[] a, int from, int to) {
        long n = 0;
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            n += nonFinite(FloatVector.fromArray(F, a, i)).trueCount();
        }
        return n + scalar.countNonFinite(a, i, to);
    }

    @Override
    public long zeroNonFinite(float[] a, int from, int to) {
        long n = 0;
        int i = from;
        int bound = from + F.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, i);
            VectorMask<Float> bad = nonFinite(v);
            if (bad.anyTrue()) {
                n += bad.trueCount();
                v.blend(0f, bad).intoArray(a, i);
            }
        }
        return n + scalar.zeroNonFinite(a, i, to);
    }

    /** NaN fails every comparison, so "not ≤ MAX_VALUE" catches NaN and both infinities. */
    private static VectorMask<Float> nonFinite(FloatVector v) {
        return v.abs().compare(VectorOperators.LE, Float.MAX_VALUE).not();
    }
}
