package dev.gradclip.internal.vector;

import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.ScalarKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on {@code jdk.incubator.vector}, loaded reflectively by {@code Kernels} only when the
 * module is readable, as Lucene isolates its Panama provider. Bodies run on the preferred species
 * up to {@code loopBound}, with several accumulators, and finish with a scalar tail.
 *
 * <p>Sum of squares, the hot loop of every norm-based clip, must run at memory speed on one thread;
 * a double accumulation with a conversion per element does not (it measured about 70% of the
 * streaming read here). So it squares in {@code float} with fused multiply-add (one rounding per
 * element) into four vector accumulators over blocks of {@value #BLOCK_VECTORS} vectors (8 terms
 * per lane), adds the four in {@code float}, and widens each block's lanes into {@code double}
 * vector accumulators, reduced once at the end. Every term then meets at most 10 float roundings:
 * the sum is within {@code 10·2^-24 ≈ 6e-7} relative of the exact one (the norm within 3e-7), since
 * all terms are non-negative. Two cases break that bound and are measured again exactly in
 * {@code double} over the range: a float square or block sum that overflowed (an element above
 * about 1.8e19; the exact pass also returns +∞ for a true infinity), and a total so small (below
 * {@code 2^-100} per element) that squares lost bits to float underflow. NaN is returned as soon
 * as the total is NaN, which only a NaN element makes. Not public API.
 */
public final class SimdKernels implements FloatKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** The same shape with double lanes: one float vector widens into two of these. */
    private static final VectorSpecies<Double> D = F.withLanes(double.class);
    private static final int L = F.length();
    /** Vectors per block: 4 accumulators of 8 fused adds each bound the float error. */
    private static final int BLOCK_VECTORS = 32;
    private static final int BLOCK = BLOCK_VECTORS * L;
    /**
     * Mean square per element below which a float sum may have lost bits to underflow: each float
     * rounding is off by at most 2^-150 absolute, negligible against a total this large.
     */
    private static final double TINY_PER_ELEMENT = 0x1p-100;

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
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
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
            FloatVector s = s0.add(s1).add(s2.add(s3));
            d0 = d0.add(s.convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add(s.convertShape(VectorOperators.F2D, D, 1));
            i = end;
        }
        double total = d0.add(d1).reduceLanes(VectorOperators.ADD);
        if (Double.isNaN(total)) {
            return total;
        }
        total += scalar.sumOfSquares(a, i, to);
        if (!(total <= Double.MAX_VALUE && total >= (to - from) * TINY_PER_ELEMENT)) {
            return exactSumOfSquares(a, from, to);
        }
        return total;
    }

    /** The exact path: zero, tiny, overflowing or infinite ranges. */
    private double exactSumOfSquares(float[] a, int from, int to) {
        if (maxAbs(a, from, to) == 0.0) {
            return 0.0;
        }
        return scalar.sumOfSquares(a, from, to);
    }

    @Override
    public double sumOfAbs(float[] a, int from, int to) {
        // as sumOfSquares; adding magnitudes never underflows, so only overflow needs the exact path
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
        int i = from;
        while (to - i >= BLOCK) {
            int end = i + BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                    s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            for (int j = i; j < end; j += 4 * L) {
                s0 = s0.add(FloatVector.fromArray(F, a, j).abs());
                s1 = s1.add(FloatVector.fromArray(F, a, j + L).abs());
                s2 = s2.add(FloatVector.fromArray(F, a, j + 2 * L).abs());
                s3 = s3.add(FloatVector.fromArray(F, a, j + 3 * L).abs());
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
        total += scalar.sumOfAbs(a, i, to);
        if (!(total <= Double.MAX_VALUE)) {
            return scalar.sumOfAbs(a, from, to);
        }
        return total;
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

    /**
     * {@inheritDoc}
     *
     * <p>The squares of the clamped vectors accumulate as in {@link #sumOfSquares}: in {@code float}
     * by fused multiply-add, two accumulators over blocks of 16 vectors (8 terms per lane), each
     * block widened into {@code double}; the same two cases (a float overflow, a total below
     * {@code 2^-100} per element) are measured again exactly over the clamped range.
     */
    @Override
    public double clampSumOfSquares(float[] a, int from, int to, float limit, long[] changed) {
        long count = 0;
        float low = -limit;
        DoubleVector d0 = DoubleVector.zero(D), d1 = DoubleVector.zero(D);
        int i = from;
        int block = BLOCK / 2;
        while (to - i >= block) {
            int end = i + block;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
            for (int j = i; j < end; j += 2 * L) {
                FloatVector v0 = FloatVector.fromArray(F, a, j);
                VectorMask<Float> out0 = v0.compare(VectorOperators.GT, limit).or(v0.compare(VectorOperators.LT, low));
                if (out0.anyTrue()) {
                    count += out0.trueCount();
                    v0 = v0.max(low).min(limit);
                    v0.intoArray(a, j);
                }
                FloatVector v1 = FloatVector.fromArray(F, a, j + L);
                VectorMask<Float> out1 = v1.compare(VectorOperators.GT, limit).or(v1.compare(VectorOperators.LT, low));
                if (out1.anyTrue()) {
                    count += out1.trueCount();
                    v1 = v1.max(low).min(limit);
                    v1.intoArray(a, j + L);
                }
                s0 = v0.fma(v0, s0);
                s1 = v1.fma(v1, s1);
            }
            FloatVector s = s0.add(s1);
            d0 = d0.add(s.convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add(s.convertShape(VectorOperators.F2D, D, 1));
            i = end;
        }
        long[] tail = new long[1];
        double total = d0.add(d1).reduceLanes(VectorOperators.ADD) + scalar.clampSumOfSquares(a, i, to, limit, tail);
        changed[0] = count + tail[0];
        if (Double.isNaN(total)) {
            return total;
        }
        if (!(total <= Double.MAX_VALUE && total >= (to - from) * TINY_PER_ELEMENT)) {
            return exactSumOfSquares(a, from, to);
        }
        return total;
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
