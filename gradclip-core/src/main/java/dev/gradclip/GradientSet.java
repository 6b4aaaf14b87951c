package dev.gradclip;

import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.Kernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The {@link Gradients} backend for plain {@code float[]} arrays: named tensors with shapes, each
 * optionally paired with its parameter values (needed by AGC). Clipping writes into the arrays
 * given; nothing is copied.
 *
 * <pre>{@code
 * GradientSet grads = GradientSet.builder()
 *         .add("layer1.weight", gradW1, paramW1, 128, 784)
 *         .add("layer1.bias", gradB1, paramB1, 128)
 *         .build();
 * ClipReport report = Clippers.globalNorm(1.0).clip(grads);
 * }</pre>
 *
 * <p>The loops run on the kernels chosen by {@code -Dgradclip.kernels} (SIMD when
 * {@code jdk.incubator.vector} is readable, else scalar).
 */
public final class GradientSet implements Gradients {

    /**
     * Elements per chunk, the unit of work of every pass over a tensor (and of its parallel split):
     * 64 Ki floats (256 KiB). Fixed, so that the order of every sum is the same whatever the
     * parallelism.
     */
    static final int CHUNK = 1 << 16;
    /** The fewest floats a parallel pass gives a share of its own: 1Mi, 16 chunks (4 MiB). */
    static final long MIN_FLOATS_PER_SHARE = 1 << 20;

    /** One pool per parallelism above 1, shared by every set; its threads are daemons. */
    private static final ConcurrentHashMap<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();

    private final Tensor[] tensors;
    private final FloatKernels kernels;
    private final int parallelism;
    /** The fewest floats worth a share of a pass of their own (see {@link #withParallelism}). */
    private final long minFloatsPerShare;
    /** Chunk c covers {@code tensors[chunkTensor[c]].grad[chunkFrom[c], chunkTo[c])}. */
    private final int[] chunkTensor;
    private final int[] chunkFrom;
    private final int[] chunkTo;
    /** Tensor t's chunks are {@code firstChunk[t] .. firstChunk[t + 1] - 1}. */
    private final int[] firstChunk;
    /** Floats in chunks {@code 0 .. c - 1}: {@code floatsBefore[c]}, {@code chunkTensor.length + 1} entries. */
    private final long[] floatsBefore;

    private record Tensor(String name, String group, long[] shape, float[] grad, float[] param, int units) {
    }

    private GradientSet(Tensor[] tensors, int parallelism, long minFloatsPerShare) {
        this.tensors = tensors;
        this.kernels = Kernels.get();
        this.parallelism = parallelism;
        this.minFloatsPerShare = minFloatsPerShare;
        int count = 0;
        for (Tensor t : tensors) {
            count += (t.grad.length + CHUNK - 1) / CHUNK;
        }
        chunkTensor = new int[count];
        chunkFrom = new int[count];
        chunkTo = new int[count];
        firstChunk = new int[tensors.length + 1];
        floatsBefore = new long[count + 1];
        int c = 0;
        for (int t = 0; t < tensors.length; t++) {
            firstChunk[t] = c;
            int n = tensors[t].grad.length;
            for (int from = 0; from < n; from += CHUNK) {
                chunkTensor[c] = t;
                chunkFrom[c] = from;
                chunkTo[c] = Math.min(n, from + CHUNK);
                floatsBefore[c + 1] = floatsBefore[c] + (chunkTo[c] - from);
                c++;
            }
        }
        firstChunk[tensors.length] = c;
    }

    /**
     * The same tensors (the same arrays, not copies) with passes over them split across
     * {@code threads} threads: the norm pass, the scale pass of a global rule, value clipping, the
     * non-finite count and zeroing run in parallel over chunks of {@value #CHUNK} elements of every
     * tensor (unit-wise passes and norms of other p than 1, 2 and ∞ stay on the calling thread).
     * The calling thread takes one share; the others run on a shared pool of daemon threads.
     *
     * <p>Results do not depend on the thread count: every sum is taken chunk by chunk and the
     * chunk sums are added in chunk order on the calling thread, so norms, reports and clipped
     * gradients are bit for bit those of {@code threads = 1}, which is what the plain set computes.
     *
     * <p>A pass gets one share per {@value #MIN_FLOATS_PER_SHARE} floats at most, so that a pass
     * over fewer than twice that runs on the calling thread alone: handing a share to another thread
     * costs more than it saves there (measured with {@code gradclip bench --only pytorch} on two
     * cores: at 1M floats every mode took longer on two threads than on one, the norm over the
     * threshold 0.25 ms against 0.20 ms).
     *
     * @param threads the number of threads, at least 1 (e.g.
     *                {@code Runtime.getRuntime().availableProcessors()})
     * @return a set over the same arrays
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public GradientSet withParallelism(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        return new GradientSet(tensors, threads, MIN_FLOATS_PER_SHARE);
    }

    /**
     * As {@link #withParallelism(int)} with another least share, for tests that split small sets.
     *
     * @param threads           the number of threads, at least 1
     * @param minFloatsPerShare the fewest floats a share gets, at least 1
     * @return a set over the same arrays
     */
    GradientSet withParallelism(int threads, long minFloatsPerShare) {
        if (threads < 1 || minFloatsPerShare < 1) {
            throw new IllegalArgumentException("threads and minFloatsPerShare must be at least 1, got " + threads
                    + " and " + minFloatsPerShare);
        }
        return new GradientSet(tensors, threads, minFloatsPerShare);
    }

    /** @return the number of threads passes over this set use ({@link #withParallelism}) */
    public int parallelism() {
        return parallelism;
    }

    /** Work on one chunk. */
    @FunctionalInterface
    private interface ChunkWork {
        void run(int chunk);
    }

    /**
     * Runs {@code work} on chunks {@code [from, to)}: on the calling thread when the parallelism is 1
     * or there is one chunk, else split into contiguous shares, the first on the calling thread.
     * Each chunk writes only its own result slot, so the split cannot change a result.
     */
    private void forEachChunk(int from, int to, ChunkWork work) {
        forEachChunk(from, to, false, work);
    }

    /**
     * As {@link #forEachChunk(int, int, ChunkWork)}; with {@code backwards} each share runs its
     * chunks last to first. A write pass that follows a read pass (the scale after the norm) then
     * starts on the chunks the read left in the cache, instead of on the ones it evicted first.
     */
    private void forEachChunk(int from, int to, boolean backwards, ChunkWork work) {
        int n = to - from;
        long floats = floatsBefore[to] - floatsBefore[from];
        int shares = (int) Math.min(Math.min(parallelism, n), Math.max(1, floats / minFloatsPerShare));
        if (shares <= 1) {
            run(from, to, backwards, work);
            return;
        }
        ForkJoinPool pool = POOLS.computeIfAbsent(parallelism, p -> new ForkJoinPool(p - 1));
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[shares - 1];
        for (int k = 1; k < shares; k++) {
            int start = from + (int) ((long) n * k / shares);
            int end = from + (int) ((long) n * (k + 1) / shares);
            others[k - 1] = pool.submit(() -> run(start, end, backwards, work));
        }
        RuntimeException failure = null;
        try {
            run(from, from + n / shares, backwards, work);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : others) {
            try {
                task.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Wraps arrays as one-dimensional tensors named {@code grads[0]}, {@code grads[1]}, … (each its
     * own group), the layout the {@link GradClip} facade uses.
     *
     * @param grads the gradient arrays; none may be null
     * @return the set
     * @throws NullPointerException if {@code grads} or one of its arrays is null
     */
    public static GradientSet of(float[]... grads) {
        Objects.requireNonNull(grads, "grads");
        Builder b = builder();
        for (int i = 0; i < grads.length; i++) {
            if (grads[i] == null) {
                throw new NullPointerException("grads[" + i + "] is null");
            }
            b.add("grads[" + i + "]", grads[i], grads[i].length);
        }
        return b.build();
    }

    /**
     * @param tensor tensor number
     * @return the gradient array itself (not a copy)
     */
    public float[] gradient(int tensor) {
        return tensors[tensor].grad;
    }

    /**
     * @param tensor tensor number
     * @return the parameter array itself, or {@code null} when none was given
     */
    public float[] parameter(int tensor) {
        return tensors[tensor].param;
    }

    /**
     * The gradient arrays of every tensor, in tensor order (the arrays themselves, not copies).
     *
     * @return one array per tensor
     */
    public float[][] gradients() {
        float[][] out = new float[tensors.length][];
        for (int t = 0; t < tensors.length; t++) {
            out[t] = tensors[t].grad;
        }
        return out;
    }

    /**
     * The parameter arrays of every tensor, in tensor order (the arrays themselves), for optimizers.
     *
     * @return one array per tensor
     * @throws IllegalArgumentException if a tensor was added without parameter values
     */
    public float[][] parameters() {
        float[][] out = new float[tensors.length][];
        for (int t = 0; t < tensors.length; t++) {
            out[t] = tensors[t].param;
            if (out[t] == null) {
                throw new IllegalArgumentException("tensor '" + tensors[t].name + "' has no parameter values;"
                        + " build the set with GradientSet.Builder.add(name, grad, param, shape...)");
            }
        }
        return out;
    }

    /** @return the name of the kernels in use, {@code "simd"} or {@code "scalar"} */
    public String kernelName() {
        return kernels.name();
    }

    @Override
    public int tensorCount() {
        return tensors.length;
    }

    @Override
    public String name(int tensor) {
        return tensors[tensor].name;
    }

    @Override
    public String group(int tensor) {
        return tensors[tensor].group;
    }

    @Override
    public long[] shape(int tensor) {
        return tensors[tensor].shape.clone();
    }

    @Override
    public long size(int tensor) {
        return tensors[tensor].grad.length;
    }

    @Override
    public boolean hasParameter(int tensor) {
        return tensors[tensor].param != null;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: for p = 2, 1 and ∞, chunk by chunk ({@value #CHUNK} elements, in parallel with
     * {@link #withParallelism}), the chunks' sums added in chunk order; for other p, tensor by tensor.
     */
    @Override
    public void norms(double p, double[] out) {
        if (p != 2.0 && p != 1.0 && p != Double.POSITIVE_INFINITY) {
            for (int t = 0; t < tensors.length; t++) {
                out[t] = norm(tensors[t].grad, 0, tensors[t].grad.length, p);
            }
            return;
        }
        double[] part = new double[chunkTensor.length];
        forEachChunk(0, chunkTensor.length, c -> {
            float[] a = tensors[chunkTensor[c]].grad;
            part[c] = p == 2.0 ? kernels.sumOfSquares(a, chunkFrom[c], chunkTo[c])
                    : p == 1.0 ? kernels.sumOfAbs(a, chunkFrom[c], chunkTo[c])
                    : kernels.maxAbs(a, chunkFrom[c], chunkTo[c]);
        });
        for (int t = 0; t < tensors.length; t++) {
            double acc = 0;
            for (int c = firstChunk[t]; c < firstChunk[t + 1]; c++) {
                if (p == Double.POSITIVE_INFINITY) {
                    // NaN sticks: Math.max returns NaN when either argument is NaN
                    acc = Math.max(acc, part[c]);
                } else {
                    acc += part[c];
                }
            }
            out[t] = p == 2.0 ? Math.sqrt(acc) : acc;
        }
    }

    private static void run(int from, int to, boolean backwards, ChunkWork work) {
        if (backwards) {
            for (int c = to - 1; c >= from; c--) {
                work.run(c);
            }
        } else {
            for (int c = from; c < to; c++) {
                work.run(c);
            }
        }
    }

    /** @return the sum of {@code part} over tensor t's chunks, in chunk order */
    private double sumOver(int tensor, double[] part) {
        double acc = 0;
        for (int c = firstChunk[tensor]; c < firstChunk[tensor + 1]; c++) {
            acc += part[c];
        }
        return acc;
    }

    private double norm(float[] a, int from, int to, double p) {
        if (p == 2.0) {
            return Math.sqrt(kernels.sumOfSquares(a, from, to));
        }
        if (p == 1.0) {
            return kernels.sumOfAbs(a, from, to);
        }
        double max = kernels.maxAbs(a, from, to);
        if (p == Double.POSITIVE_INFINITY || max == 0.0 || !Double.isFinite(max)) {
            return max;
        }
        // scaled by the largest magnitude so that no power overflows, whatever p is
        return max * Math.pow(kernels.sumOfScaledPowers(a, from, to, p, max), 1.0 / p);
    }

    @Override
    public long nonFiniteCount(int tensor) {
        float[] a = tensors[tensor].grad;
        double[] part = new double[chunkTensor.length];
        forEachChunk(firstChunk[tensor], firstChunk[tensor + 1],
            c -> part[c] = kernels.countNonFinite(a, chunkFrom[c], chunkTo[c]));
        return (long) sumOver(tensor, part);
    }

    @Override
    public long firstNonFinite(int tensor) {
        float[] a = tensors[tensor].grad;
        return kernels.firstNonFinite(a, 0, a.length);
    }

    @Override
    public float get(int tensor, long index) {
        return tensors[tensor].grad[Math.toIntExact(index)];
    }

    @Override
    public void set(int tensor, long index, float value) {
        float[] a = tensors[tensor].grad;
        a[(int) Objects.checkIndex(index, (long) a.length)] = value;
    }

    @Override
    public long zeroNonFinite(int tensor) {
        float[] a = tensors[tensor].grad;
        double[] part = new double[chunkTensor.length];
        forEachChunk(firstChunk[tensor], firstChunk[tensor + 1],
            c -> part[c] = kernels.zeroNonFinite(a, chunkFrom[c], chunkTo[c]));
        return (long) sumOver(tensor, part);
    }

    @Override
    public void scale(int tensor, double factor) {
        forEachChunk(firstChunk[tensor], firstChunk[tensor + 1], true,
            c -> scaleRange(tensors[tensor].grad, chunkFrom[c], chunkTo[c], factor));
    }

    /**
     * {@inheritDoc} Here: every chunk of every tensor, in parallel with {@link #withParallelism}, last
     * chunk first, so that a scale after the norm pass starts on what that pass left in the cache
     * (on a 16M-float tensor, 64 MB, about 15% faster than first to last on the machine of
     * docs/performance.md).
     */
    @Override
    public void scaleAll(double factor) {
        forEachChunk(0, chunkTensor.length, true,
            c -> scaleRange(tensors[chunkTensor[c]].grad, chunkFrom[c], chunkTo[c], factor));
    }

    /**
     * Multiplies {@code a[from, to)} by {@code factor} rounded to float. A positive factor below the
     * smallest normal float (a huge norm clipped to a small threshold, e.g. 3e38 values clipped to 1)
     * would round to a subnormal with few significant bits, or to 0, which would zero finite
     * gradients; one above the largest float (a tiny norm renormalized to 1: 1/1.4e-45 = 7.1e44)
     * would round to infinity, which would turn finite gradients into infinities and zeros into NaN.
     * Both are applied as a float times exact powers of two instead ({@link FloatKernels#scaleInSteps}).
     */
    private void scaleRange(float[] a, int from, int to, double factor) {
        kernels.scaleInSteps(a, from, to, factor);
    }

    @Override
    public long clamp(int tensor, double limit) {
        float[] a = tensors[tensor].grad;
        double[] part = new double[chunkTensor.length];
        forEachChunk(firstChunk[tensor], firstChunk[tensor + 1],
            c -> part[c] = kernels.clamp(a, chunkFrom[c], chunkTo[c], (float) limit));
        return (long) sumOver(tensor, part);
    }

    /** {@inheritDoc} One pass: the kernel squares the clamped values as it writes them. */
    @Override
    public long clampAndMeasure(int tensor, double limit, double[] normAfter) {
        float[] a = tensors[tensor].grad;
        double[] part = new double[chunkTensor.length];
        long[] changed = new long[chunkTensor.length];
        forEachChunk(firstChunk[tensor], firstChunk[tensor + 1], c -> {
            long[] one = new long[1];
            part[c] = kernels.clampSumOfSquares(a, chunkFrom[c], chunkTo[c], (float) limit, one);
            changed[c] = one[0];
        });
        normAfter[tensor] = Math.sqrt(sumOver(tensor, part));
        long total = 0;
        for (int c = firstChunk[tensor]; c < firstChunk[tensor + 1]; c++) {
            total += changed[c];
        }
        return total;
    }

    /** {@inheritDoc} Here: {@code true}. */
    @Override
    public boolean clampsInOnePass() {
        return true;
    }

    @Override
    public ClampResult[] clampInOnePass(double limit, boolean zeroNonFinite) {
        ClampResult[] part = new ClampResult[chunkTensor.length];
        forEachChunk(0, chunkTensor.length, c -> part[c] = kernels.clampInOnePass(tensors[chunkTensor[c]].grad,
                chunkFrom[c], chunkTo[c], (float) limit, zeroNonFinite));
        ClampResult[] out = new ClampResult[tensors.length];
        for (int t = 0; t < tensors.length; t++) {
            ClampResult r = new ClampResult(0, 0, 0, 0, -1, 0f);
            for (int c = firstChunk[t]; c < firstChunk[t + 1]; c++) {
                r = r.plus(part[c]);
            }
            out[t] = r;
        }
        return out;
    }

    @Override
    public int unitCount(int tensor) {
        return tensors[tensor].units;
    }

    @Override
    public void unitNorms(int tensor, boolean parameter, double[] out) {
        Tensor t = tensors[tensor];
        float[] a = parameter ? t.param : t.grad;
        if (a == null) {
            throw new IllegalStateException("tensor '" + t.name + "' has no parameter values; add them with"
                    + " GradientSet.Builder.add(name, grad, param, shape...) to use unit-wise clipping");
        }
        int unitSize = t.units == 0 ? 0 : a.length / t.units;
        for (int u = 0; u < t.units; u++) {
            out[u] = Math.sqrt(kernels.sumOfSquares(a, u * unitSize, (u + 1) * unitSize));
        }
    }

    @Override
    public void scaleUnits(int tensor, double[] factors) {
        Tensor t = tensors[tensor];
        int unitSize = t.units == 0 ? 0 : t.grad.length / t.units;
        for (int u = 0; u < t.units; u++) {
            if (factors[u] != 1.0) {
                scaleRange(t.grad, u * unitSize, (u + 1) * unitSize, factors[u]);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GradientSet[");
        for (int i = 0; i < tensors.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(tensors[i].name).append(Arrays.toString(tensors[i].shape));
        }
        return sb.append(']').toString();
    }

    /**
     * Builds a {@link GradientSet}. Names must be unique; the array length must equal the product of
     * the shape; a parameter array, when given, must have the gradient's length.
     */
    public static final class Builder {
        private final List<Tensor> tensors = new ArrayList<>();
        private final Set<String> names = new HashSet<>();

        private Builder() {
        }

        /**
         * Adds a gradient tensor without parameter values, in the group named by its name up to the
         * last {@code '.'} (so {@code fc1.weight} and {@code fc1.bias} share group {@code fc1}).
         *
         * @param name  unique name
         * @param grad  the gradient values, row-major
         * @param shape the dimensions; none for a scalar
         * @return this builder
         * @throws IllegalArgumentException if the name repeats or the shape does not match
         */
        public Builder add(String name, float[] grad, long... shape) {
            return add(name, defaultGroup(name), grad, null, shape);
        }

        /**
         * Adds a gradient tensor with its parameter values (for AGC).
         *
         * @param name  unique name
         * @param grad  the gradient values, row-major
         * @param param the parameter values, same length as {@code grad}
         * @param shape the dimensions; none for a scalar
         * @return this builder
         * @throws IllegalArgumentException if the name repeats or a length does not match
         */
        public Builder add(String name, float[] grad, float[] param, long... shape) {
            return add(name, defaultGroup(name), grad, param, shape);
        }

        /**
         * Adds a tensor in an explicit group (layer).
         *
         * @param name  unique name
         * @param group the group (layer) name
         * @param grad  the gradient values, row-major
         * @param param the parameter values or {@code null}
         * @param shape the dimensions; none for a scalar
         * @return this builder
         * @throws IllegalArgumentException if the name repeats or a length does not match
         */
        public Builder add(String name, String group, float[] grad, float[] param, long... shape) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(grad, () -> "gradient of '" + name + "'");
            Objects.requireNonNull(shape, "shape");
            if (names.contains(name)) {
                throw new IllegalArgumentException("tensor name '" + name + "' is used twice; names must be unique");
            }
            long count = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in shape "
                            + Arrays.toString(shape));
                }
                count *= d;
            }
            if (count != grad.length) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape)
                        + " (" + count + " elements) but its gradient array has " + grad.length);
            }
            if (param != null && param.length != grad.length) {
                throw new IllegalArgumentException("tensor '" + name + "' has " + grad.length
                        + " gradient values but " + param.length + " parameter values");
            }
            int units = shape.length >= 2 ? Math.toIntExact(shape[0]) : 1;
            // recorded only once valid, so a rejected tensor can be added again, corrected
            names.add(name);
            tensors.add(new Tensor(name, group, shape.clone(), grad, param, units));
            return this;
        }

        /** @return the set, over the arrays given (not copies) */
        public GradientSet build() {
            return new GradientSet(tensors.toArray(new Tensor[0]), 1, MIN_FLOATS_PER_SHARE);
        }

        private static String defaultGroup(String name) {
            int dot = name.lastIndexOf('.');
            return dot > 0 ? name.substring(0, dot) : name;
        }
    }
}
