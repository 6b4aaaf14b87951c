package dev.gradclip.internal.vector;

import dev.gradclip.ClampResult;
import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.ScalarKernels;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * per lane; the last block of a range is shorter, a whole number of steps of four vectors, so that
 * fewer than {@code 4·L} floats are left to the scalar tail), adds the four in {@code float}, widens each block's lanes into {@code double} and adds
 * them to a double total. Every term then meets at most 10 float roundings:
 * the sum is within {@code 10·2^-24 ≈ 6e-7} relative of the exact one (the norm within 3e-7), since
 * all terms are non-negative. Two cases break that bound and are measured again exactly in
 * {@code double} over the range: a float square or block sum that overflowed (an element above
 * about 1.8e19; the exact pass also returns +∞ for a true infinity), and a total so small (below
 * {@code 2^-100} per element) that squares lost bits to float underflow. A block whose float sum
 * is not finite (a NaN, an infinity or an overflow) ends the vector pass: NaN is returned at once
 * if the block holds one, else the range is measured exactly. The one-pass value clip sums its
 * blocks with the same method ({@code blockSumOfSquares}), so its norm before is this one's, bit for
 * bit.
 *
 * <p>Every vector loop starts at the index where a large array's elements are aligned to the
 * vector ({@link #ANCHOR}), the elements before it going to the scalar kernels, so that no load or
 * store spans two cache lines. Where the loops start is a function of the indices only, so the
 * results are the same on every run and for every thread count (chunks start at multiples of the
 * vector length).
 *
 * <p><b>No vector crosses a call to a method of this class.</b> The vector API runs at speed only
 * where C2 inlines every call from the first load to the last store into one compilation, and its
 * own methods are forced inline, but ours are not: once a compilation has parsed about 18,000 nodes
 * ({@code NodeCountInliningCutoff}, reached by the two block loops of the value clip) or
 * gone too deep, C2 stops inlining ours, and a helper that took or returned a vector then received
 * and returned it as an allocated object, every step. That made the one-pass value clip 5-10x slower
 * in a benchmark JVM than in a loop of its own (issue 15 item 2: {@code clamped}, {@code widenedSum}
 * not inlined, {@code -XX:+PrintInlining}). So each loop over vectors is written out in one method
 * whose arguments and results are arrays and scalars; where C2 stops inlining, it stops at such a
 * method, which costs one call per block. Not public API.
 */
public final class SimdKernels implements FloatKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** The same shape with double lanes: one float vector widens into two of these. */
    private static final VectorSpecies<Double> D = F.withLanes(double.class);
    /** The same shape with int lanes, for work on a float's bits. */
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int MAGNITUDE = 0x7fff_ffff;
    private static final int SIGN = 0x8000_0000;
    private static final int L = F.length();
    /** Vectors per block: 4 accumulators of 8 fused adds each bound the float error. */
    private static final int BLOCK_VECTORS = 32;
    private static final int BLOCK = BLOCK_VECTORS * L;
    /** The unit of a block's length: one step of the four accumulators. */
    private static final int STEP = 4 * L;
    /**
     * Mean square per element below which a float sum may have lost bits to underflow: each float
     * rounding is off by at most 2^-150 absolute, negligible against a total this large.
     */
    private static final double TINY_PER_ELEMENT = 0x1p-100;
    /**
     * Where element 0 of a {@code float[]} lies after the array's start, in bytes: 16 on 64-bit
     * HotSpot with compressed class pointers (the default; 12 with JDK 24's opt-in compact object
     * headers, where the loads below are then off by 4 bytes: slower, with the same results).
     */
    private static final int ARRAY_BASE_BYTES = 16;
    /**
     * The index modulo {@code L} at which the vector loops start, so that each vector load and store
     * covers one aligned run of {@code 4·L} bytes rather than two cache lines: G1 places a large
     * array (humongous, above half a region) at the start of a region, so element {@code i} lies
     * at {@code 16 + 4i} bytes from an address aligned far beyond a vector. Measured on 16M floats
     * in one array on one thread (AVX-512): the sum of squares 15% faster with 4 KiB pages and 25%
     * faster on transparent huge pages than when started at index 0. The elements before it are
     * done by the scalar kernels; the result depends only on the indices, never on an address.
     */
    private static final int ANCHOR = Math.floorMod(-ARRAY_BASE_BYTES / Float.BYTES, L);

    /**
     * The range of limits the vector one-pass clamp takes: above it a clamped square may overflow a
     * float block sum, below it a float square of an unclamped element may underflow; outside it the
     * exact scalar pass runs.
     */
    private static final float MIN_ONE_PASS_LIMIT = 0x1p-30f;
    private static final float MAX_ONE_PASS_LIMIT = 0x1p60f;

    private final ScalarKernels scalar = ScalarKernels.INSTANCE;

    /**
     * The first index at or after {@code from} (and not after {@code to}) where a vector loop over
     * {@code [from, to)} starts: the next index congruent to {@link #ANCHOR} modulo {@code L}.
     */
    private static int vectorStart(int from, int to) {
        return Math.min(to, from + Math.floorMod(ANCHOR - from, L));
    }

    /**
     * The length of the block that starts at {@code i}: {@link #BLOCK} floats, or at the end of the
     * range as many whole steps of {@link #STEP} floats as remain (0 when fewer remain, which the
     * scalar kernels then finish). So at most {@code STEP - 1} floats of a range take the scalar
     * path after the vector loop starts, whatever its length.
     */
    private static int blockLength(int i, int to) {
        return Math.min(BLOCK, (to - i) & -STEP);
    }

    /** Creates the kernels; fails with a linkage error when the vector module is not readable. */
    public SimdKernels() {
    }

    @Override
    public String name() {
        return "simd";
    }

    @Override
    public double sumOfSquares(float[] a, int from, int to) {
        int i = vectorStart(from, to);
        double total = scalar.sumOfSquares(a, from, i);
        for (int n = blockLength(i, to); n > 0; n = blockLength(i, to)) {
            double block = blockSumOfSquares(a, i, i + n);
            if (!Double.isFinite(block)) {
                // a NaN element, an infinity, or an element whose float square overflowed
                double max = maxAbs(a, i, i + n);
                return Double.isNaN(max) ? max : exactSumOfSquares(a, from, to);
            }
            total += block;
            i += n;
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
        int head = vectorStart(from, to);
        int i = head;
        for (int n = blockLength(i, to); n > 0; n = blockLength(i, to)) {
            int end = i + n;
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
        double total = scalar.sumOfAbs(a, from, head) + d0.add(d1).reduceLanes(VectorOperators.ADD);
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
        int i = vectorStart(from, to);
        double head = scalar.maxAbs(a, from, i);
        if (Double.isNaN(head)) {
            return head;
        }
        int bound = i + F.loopBound(to - i);
        FloatVector m0 = FloatVector.zero(F), m1 = FloatVector.zero(F);
        for (; i + L < bound; i += 2 * L) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).abs());
            m1 = m1.max(FloatVector.fromArray(F, a, i + L).abs());
        }
        for (; i < bound; i += L) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).abs());
        }
        // lanewise MAX follows Math.max, so a NaN lane stays NaN through the reduction
        double m = Math.max(head, m0.max(m1).reduceLanes(VectorOperators.MAX));
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
        int i = vectorStart(from, to);
        scalar.scale(a, from, i, factor);
        int bound = i + F.loopBound(to - i);
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, a, i).mul(factor).intoArray(a, i);
        }
        scalar.scale(a, i, to, factor);
    }

    @Override
    public long clamp(float[] a, int from, int to, float limit) {
        float low = -limit;
        int i = vectorStart(from, to);
        long changed = scalar.clamp(a, from, i, limit);
        int bound = i + F.loopBound(to - i);
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
     * <p>Here: the pass of {@link #clampInOnePass} without zeroing, which checks each block for
     * non-finite elements before it clamps it (on the floats' bits, where NaN would not survive),
     * so NaN stays NaN.
     */
    @Override
    public double clampSumOfSquares(float[] a, int from, int to, float limit, long[] changed) {
        ClampResult r = clampInOnePass(a, from, to, limit, false);
        changed[0] = r.changed();
        return r.sumOfSquaresAfter();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Block by block ({@value #BLOCK_VECTORS} vectors, a few KiB that stay in the L1 cache): a first
     * loop reads the block from memory and sums its squares as {@link #sumOfSquares} does; if that
     * float block sum is finite the block holds no NaN, infinity or element above about 1.8e19, and
     * a second loop clamps it from L1 on the floats' bits (see {@link #clamped}), writes only the
     * pairs of vectors where something changes, counts the changes in int lanes and sums the
     * squares of the result. A block whose sum is not finite is done by the exact scalar pass, which
     * finds the non-finite elements before anything in the block is written. So memory sees one read
     * and one write, and finite data never pays for the non-finite check beyond one compare per
     * block. A total below {@code 2^-100} per element (squares lost to float underflow) is measured
     * again exactly: with the limit at least {@code 2^-30} no element of such a range exceeds it, so
     * nothing was clamped and the data are as read. Limits outside {@code [2^-30, 2^60]} take the
     * exact scalar pass.
     */
    @Override
    public ClampResult clampInOnePass(float[] a, int from, int to, float limit, boolean zeroNonFinite) {
        if (!(limit >= MIN_ONE_PASS_LIMIT && limit <= MAX_ONE_PASS_LIMIT)) {
            return scalar.clampInOnePass(a, from, to, limit, zeroNonFinite);
        }
        int limitBits = Float.floatToRawIntBits(limit);
        long[] count = new long[1];
        ClampResult odd = null;
        int i = vectorStart(from, to);
        ClampResult head = scalar.clampInOnePass(a, from, i, limit, zeroNonFinite);
        // added in the order sumOfSquares adds, so that the norm before is its norm, bit for bit
        double before = head.sumOfSquaresBefore();
        double after = head.sumOfSquaresAfter();
        // the two block loops are methods of their own, taking the array and returning scalars, so
        // that whether C2 inlines them here or compiles them apart, no vector crosses a call
        for (int n = blockLength(i, to); n > 0; n = blockLength(i, to)) {
            double block = blockSumOfSquares(a, i, i + n);
            if (Double.isFinite(block)) {
                before += block;
                after += clampBlock(a, i, i + n, limitBits, count);
            } else {
                ClampResult r = scalar.clampInOnePass(a, i, i + n, limit, zeroNonFinite);
                odd = odd == null ? r : odd.plus(r);
            }
            i += n;
        }
        // in index order: the head, then the blocks (the finite ones have no non-finite element, so
        // the first after the head's is odd's), then the tail
        ClampResult r = new ClampResult(before, after, head.changed() + count[0], head.nonFiniteCount(),
                head.firstNonFinite(), head.firstNonFiniteValue());
        if (odd != null) {
            r = r.plus(odd);
        }
        r = r.plus(scalar.clampInOnePass(a, i, to, limit, zeroNonFinite));
        if (r.sumOfSquaresBefore() < (to - from) * TINY_PER_ELEMENT && r.changed() == 0) {
            double exact = exactSumOfSquares(a, from, to);
            r = new ClampResult(exact, exact, 0, r.nonFiniteCount(), r.firstNonFinite(), r.firstNonFiniteValue());
        }
        return r;
    }

    /**
     * The squares of one block, {@code [i, end)} with {@code end - i} a multiple of {@link #STEP} up
     * to {@link #BLOCK}: four float accumulators of at most 8 fused multiply-adds a lane, added in
     * float, widened and added in double. Not finite when an element is NaN or infinite or a float
     * square or sum overflowed.
     */
    private static double blockSumOfSquares(float[] a, int i, int end) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        for (int j = i; j < end; j += STEP) {
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
        return ((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0))
                .add(s.convertShape(VectorOperators.F2D, D, 1)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Clamps one block of finite floats, {@code [i, end)} as in {@link #blockSumOfSquares}, in place, writing only the pairs of vectors where something
     * changes; adds the number changed to {@code count[0]}. Two vectors a step, not four: four made
     * the compilation too large for C2 to inline the helpers this method then had (measured: 3x
     * slower). The squares go into two float accumulators of 16 terms a lane: at most 18
     * roundings a term, within {@code 1.1e-6} relative.
     *
     * @return the sum of the squares of the clamped block
     */
    private static double clampBlock(float[] a, int i, int end, int limitBits, long[] count) {
        IntVector lim = IntVector.broadcast(I, limitBits);
        IntVector k = IntVector.zero(I);
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F);
        for (int j = i; j < end; j += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(F, a, j);
            FloatVector v1 = FloatVector.fromArray(F, a, j + L);
            IntVector x0 = (IntVector) v0.reinterpretAsInts(), x1 = (IntVector) v1.reinterpretAsInts();
            IntVector m0 = x0.and(MAGNITUDE), m1 = x1.and(MAGNITUDE);
            // negative exactly where |x| > limit
            IntVector d0 = lim.sub(m0), d1 = lim.sub(m1);
            if (d0.or(d1).compare(VectorOperators.LT, 0).anyTrue()) {
                k = k.add(d0.lanewise(VectorOperators.LSHR, 31)).add(d1.lanewise(VectorOperators.LSHR, 31));
                // the clamp on the bits of finite floats: for non-negative floats the order of their
                // bit patterns as ints is their order as numbers, so min(|x| bits, limit bits) with
                // the sign put back is min(max(x, -limit), limit); two integer operations a lane
                // where the float max and min (with their NaN and -0 rules) cost several. Only for
                // finite lanes: a NaN's bits exceed every finite limit's and would become the limit.
                v0 = (FloatVector) m0.min(lim).or(x0.and(SIGN)).reinterpretAsFloats();
                v1 = (FloatVector) m1.min(lim).or(x1.and(SIGN)).reinterpretAsFloats();
                v0.intoArray(a, j);
                v1.intoArray(a, j + L);
            }
            t0 = v0.fma(v0, t0);
            t1 = v1.fma(v1, t1);
        }
        // at most BLOCK / L per lane
        count[0] += k.reduceLanes(VectorOperators.ADD);
        FloatVector t = t0.add(t1);
        return ((DoubleVector) t.convertShape(VectorOperators.F2D, D, 0))
                .add(t.convertShape(VectorOperators.F2D, D, 1)).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public int firstNonFinite(float[] a, int from, int to) {
        int i = vectorStart(from, to);
        int head = scalar.firstNonFinite(a, from, i);
        if (head >= 0) {
            return head;
        }
        int bound = i + F.loopBound(to - i);
        for (; i < bound; i += L) {
            // NaN fails every comparison, so "not ≤ MAX_VALUE" catches NaN and both infinities
            VectorMask<Float> bad = FloatVector.fromArray(F, a, i).abs()
                    .compare(VectorOperators.LE, Float.MAX_VALUE).not();
            if (bad.anyTrue()) {
                return i + bad.firstTrue();
            }
        }
        return scalar.firstNonFinite(a, i, to);
    }

    @Override
    public long countNonFinite(float[] a, int from, int to) {
        int i = vectorStart(from, to);
        long n = scalar.countNonFinite(a, from, i);
        int bound = i + F.loopBound(to - i);
        for (; i < bound; i += L) {
            n += FloatVector.fromArray(F, a, i).abs().compare(VectorOperators.LE, Float.MAX_VALUE).not().trueCount();
        }
        return n + scalar.countNonFinite(a, i, to);
    }

    @Override
    public long zeroNonFinite(float[] a, int from, int to) {
        int i = vectorStart(from, to);
        long n = scalar.zeroNonFinite(a, from, i);
        int bound = i + F.loopBound(to - i);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, a, i);
            VectorMask<Float> bad = v.abs().compare(VectorOperators.LE, Float.MAX_VALUE).not();
            if (bad.anyTrue()) {
                n += bad.trueCount();
                v.blend(0f, bad).intoArray(a, i);
            }
        }
        return n + scalar.zeroNonFinite(a, i, to);
    }
}
