package dev.gradclip.spark;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.GradientSet;
import dev.gradclip.Gradients;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Sharded mode: the gradient tensors of one step live on the partitions that own them (tensor
 * {@code t} on partition {@code t mod N}), and clipping exchanges per-tensor measurements, never the
 * gradients. {@link DataParallel#gradientSharded} leaves a batch's summed gradient there (a
 * reduce-scatter); {@link #distribute} places tensors given on the driver.
 *
 * <p>{@link #clip} runs any gradclip clipper on the driver (the driver loop), on a view of the
 * whole model whose reads are Spark jobs over the owners and whose writes are recorded and applied
 * by the owners. {@link Gradients#norms} is one job: each owner measures its tensors with
 * gradclip-core's kernels and sends back one double per tensor, which the driver puts in global
 * index order, so the clipper's policy and rule combine exactly the numbers the single-machine
 * clipper combines, with the same code: the coefficient, the report and the statistics (ZClip,
 * AutoClip, AdaGC) are the single machine's, bit for bit (the owners must use the same kernel: the
 * same JDK and {@code --add-modules jdk.incubator.vector} setting as the driver). The writes the
 * clipper makes (factors, zeroing, clamping, unit factors) go back to the owners in one more job
 * at the end of the clip, or before the next read.
 *
 * <p>Jobs per clip: a norm rule, one (nothing clipped) or two; a NaN or an infinity anywhere, the
 * same job (the owners count the non-finite elements and find the first in the pass that measures
 * a non-finite norm), so {@code THROW} and {@code SKIP} decide after one job, and {@code ZERO}
 * takes one more to zero and measure again; value clipping three (norms, the clamped norms of every
 * tensor, the clamp); AGC three (norms, the gradient's and parameter's unit norms of every tensor,
 * the unit factors). Each read job measures every tensor at once and the driver answers the
 * clipper's per-tensor calls from it until that tensor is written.
 *
 * <p>The other way to clip sharded gradients on Spark is gradclip-core's
 * {@link dev.gradclip.Clippers#sharded} in the tasks of a barrier stage, with a
 * {@link BarrierNormExchange}: peer to peer, without the driver, but about a second per exchange on
 * Spark 4.2.0 against tens of milliseconds for a job here (docs/spark.md).
 */
public final class ShardedGradients {

    private final JavaSparkContext context;
    private final List<String> names;
    private final List<String> groups;
    private final long[][] shapes;
    private final int owners;
    private final boolean parameters;
    private JavaRDD<Owned> tensors;

    /**
     * One tensor held by its owner.
     *
     * @param tensor    the tensor's global index
     * @param gradient  its gradient
     * @param parameter its parameter values (for AGC), or {@code null}
     */
    public record Owned(int tensor, float[] gradient, float[] parameter) implements Serializable {
    }

    ShardedGradients(JavaSparkContext context, List<String> names, List<long[]> shapes, int owners,
            boolean parameters, JavaRDD<Owned> tensors) {
        this.context = context;
        this.names = List.copyOf(names);
        this.shapes = shapes.stream().map(long[]::clone).toArray(long[][]::new);
        this.owners = owners;
        this.parameters = parameters;
        this.tensors = tensors;
        // the groups a GradientSet built from these names has (fc1.weight and fc1.bias in fc1)
        GradientSet.Builder b = GradientSet.builder();
        for (String name : this.names) {
            b.add(name, new float[0], 0L);
        }
        GradientSet empty = b.build();
        List<String> g = new ArrayList<>(this.names.size());
        for (int t = 0; t < this.names.size(); t++) {
            g.add(empty.group(t));
        }
        this.groups = List.copyOf(g);
    }

    /**
     * Distributes gradients over {@code owners} partitions, tensor {@code t} to partition
     * {@code t mod owners} (for tests and for gradients that start on the driver).
     *
     * @param context   the Spark context
     * @param gradients the tensors (copied)
     * @param names     their names
     * @param shapes    their shapes
     * @param owners    how many partitions own tensors
     * @return the sharded gradients
     */
    public static ShardedGradients distribute(JavaSparkContext context, float[][] gradients, List<String> names,
            List<long[]> shapes, int owners) {
        return distribute(context, gradients, null, names, shapes, owners);
    }

    /**
     * Distributes gradients and their parameter values (which AGC needs) over {@code owners}
     * partitions, tensor {@code t} to partition {@code t mod owners}.
     *
     * @param context    the Spark context
     * @param gradients  the tensors (copied)
     * @param parameters the parameter values, one array per tensor (copied), or {@code null}
     * @param names      their names
     * @param shapes     their shapes
     * @param owners     how many partitions own tensors
     * @return the sharded gradients
     */
    public static ShardedGradients distribute(JavaSparkContext context, float[][] gradients, float[][] parameters,
            List<String> names, List<long[]> shapes, int owners) {
        List<Owned> all = new ArrayList<>();
        for (int t = 0; t < gradients.length; t++) {
            all.add(new Owned(t, gradients[t].clone(), parameters == null ? null : parameters[t].clone()));
        }
        JavaRDD<Owned> rdd = context.parallelize(all, 1).mapToPair(o -> new Tuple2<>(o.tensor(), o))
                .partitionBy(new OwnerPartitioner(owners)).values().cache();
        return new ShardedGradients(context, names, shapes, owners, parameters != null, rdd);
    }

    /**
     * Clips the sharded gradients with {@code clipper}, exchanging per-tensor measurements only. If
     * the clipper throws (a non-finite gradient under {@link dev.gradclip.NonFinitePolicy#THROW}), the
     * owners' tensors are left as they were.
     *
     * @param clipper the clipper (its statistics stay on the driver)
     * @return the clipper's report, as on one machine
     * @throws dev.gradclip.NonFiniteGradientException as the single-machine clipper throws it
     */
    public ClipReport clip(Clipper clipper) {
        View view = new View();
        ClipReport report = clipper.clip(view);
        view.finish();
        return report;
    }

    /**
     * Per-tensor {@code p}-norms measured by the owners, in global index order: one Spark job.
     *
     * @param p the norm's type
     * @return one norm per tensor
     */
    public double[] norms(double p) {
        double[][] r = read(measure(p));
        double[] norms = new double[names.size()];
        for (int t = 0; t < norms.length; t++) {
            norms[t] = r[t][0];
        }
        return norms;
    }

    /**
     * What an owner measures of one of its tensors, for the driver: {@code null} for nothing.
     */
    @FunctionalInterface
    private interface Probe extends Serializable {
        double[] of(int tensor, GradientSet one);
    }

    /** The norm, and where it is not finite the non-finite count, first index and value there. */
    private static Probe measure(double p) {
        return (tensor, one) -> {
            double[] n = new double[1];
            one.norms(p, n);
            if (Double.isFinite(n[0])) {
                return new double[] {n[0], 0, -1, 0};
            }
            long first = one.firstNonFinite(0);
            return new double[] {n[0], one.nonFiniteCount(0), first, first < 0 ? Float.NaN : one.get(0, first)};
        };
    }

    /** One job: every owner measures each of its tensors; the answers by global index. */
    private double[][] read(Probe probe) {
        long[][] sh = shapes;
        List<Tuple2<Integer, double[]>> answers = tensors.mapPartitions((Iterator<Owned> it) -> {
            List<Tuple2<Integer, double[]>> out = new ArrayList<>();
            while (it.hasNext()) {
                Owned o = it.next();
                double[] a = probe.of(o.tensor(), single(o, o.gradient(), sh[o.tensor()]));
                if (a != null) {
                    out.add(new Tuple2<>(o.tensor(), a));
                }
            }
            return out.iterator();
        }).collect();
        double[][] byTensor = new double[names.size()][];
        for (Tuple2<Integer, double[]> a : answers) {
            byTensor[a._1()] = a._2();
        }
        return byTensor;
    }

    /** One owned tensor as a gradclip-core set of one, over {@code gradient}, so its kernels measure it. */
    private static GradientSet single(Owned o, float[] gradient, long[] shape) {
        return GradientSet.builder().add("t", gradient, o.parameter(), shape).build();
    }

    /** @return the tensors, gathered to the driver in index order (for tests and checkpoints) */
    public float[][] gather() {
        float[][] out = new float[names.size()][];
        for (Owned o : tensors.collect()) {
            out[o.tensor()] = o.gradient();
        }
        return out;
    }

    /** @return how many partitions own tensors */
    public int owners() {
        return owners;
    }

    /** Tensor {@code t} lives on partition {@code t mod owners}. */
    static final class OwnerPartitioner extends org.apache.spark.Partitioner {
        private static final long serialVersionUID = 1L;
        private final int owners;

        OwnerPartitioner(int owners) {
            this.owners = owners;
        }

        @Override
        public int numPartitions() {
            return owners;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key % owners;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OwnerPartitioner p && p.owners == owners;
        }

        @Override
        public int hashCode() {
            return owners;
        }
    }

    /** One write the clipper made to a tensor, applied by its owner. */
    private record Write(Kind kind, double value, long index, double[] factors) implements Serializable {
        enum Kind { SCALE, ZERO, CLAMP, SCALE_UNITS, SET }

        void apply(GradientSet one) {
            switch (kind) {
                case SCALE -> one.scale(0, value);
                case ZERO -> one.zeroNonFinite(0);
                case CLAMP -> one.clamp(0, value);
                case SCALE_UNITS -> one.scaleUnits(0, factors);
                case SET -> one.set(0, index, (float) value);
                default -> throw new IllegalStateException(kind.toString());
            }
        }
    }

    /**
     * What the clipper sees on the driver: names, groups and shapes, every read a job over the owners
     * (answered for every tensor at once, and from that answer until the tensor is written), every
     * write recorded and applied by the owners before the next read or at the end of the clip.
     */
    private final class View implements Gradients {
        private final int n = names.size();
        private final List<List<Write>> pending = new ArrayList<>();
        private boolean dirty;
        private final List<JavaRDD<Owned>> replaced = new ArrayList<>();
        /** per tensor: non-finite count, first non-finite index, value there; null when unknown */
        private final double[][] scans = new double[n][];
        /** per tensor, for {@link #clampLimit}: elements changed and L2 norm after clamping */
        private final double[][] clamps = new double[n][];
        private double clampLimit = Double.NaN;
        /** per tensor: the gradient's unit norms, then the parameter's (if any) */
        private final double[][] units = new double[n][];

        View() {
            for (int t = 0; t < n; t++) {
                pending.add(new ArrayList<>());
            }
        }

        private void write(int tensor, Write w) {
            pending.get(tensor).add(w);
            dirty = true;
            scans[tensor] = null;
            clamps[tensor] = null;
            units[tensor] = null;
        }

        /** Hands the recorded writes to the owners: a new cached RDD, computed by the next job. */
        private void flush() {
            if (!dirty) {
                return;
            }
            Write[][] writes = new Write[n][];
            for (int t = 0; t < n; t++) {
                writes[t] = pending.get(t).toArray(new Write[0]);
                pending.get(t).clear();
            }
            dirty = false;
            Broadcast<Write[][]> shipped = context.broadcast(writes);
            long[][] sh = shapes;
            JavaRDD<Owned> before = tensors;
            // the writes stay in the new tensors' lineage (a lost partition is recomputed from them);
            // Spark's context cleaner frees them with the tensors
            tensors = before.map(o -> {
                Write[] mine = shipped.value()[o.tensor()];
                if (mine.length == 0) {
                    return o;
                }
                float[] g = o.gradient().clone();
                GradientSet one = single(o, g, sh[o.tensor()]);
                for (Write w : mine) {
                    w.apply(one);
                }
                return new Owned(o.tensor(), g, o.parameter());
            }).cache();
            replaced.add(before);
        }

        /** A read job, after the owners have applied every write so far. */
        private double[][] read(Probe probe) {
            flush();
            double[][] r = ShardedGradients.this.read(probe);
            release();
            return r;
        }

        private void release() {
            for (JavaRDD<Owned> old : replaced) {
                old.unpersist(false);
            }
            replaced.clear();
        }

        /** Applies what is left to write (one job if anything is). */
        void finish() {
            flush();
            if (!replaced.isEmpty()) {
                tensors.count();
                release();
            }
        }

        @Override
        public int tensorCount() {
            return n;
        }

        @Override
        public String name(int tensor) {
            return names.get(tensor);
        }

        @Override
        public String group(int tensor) {
            return groups.get(tensor);
        }

        @Override
        public long[] shape(int tensor) {
            return shapes[tensor].clone();
        }

        @Override
        public long size(int tensor) {
            long size = 1;
            for (long d : shapes[tensor]) {
                size *= d;
            }
            return size;
        }

        @Override
        public boolean hasParameter(int tensor) {
            return parameters;
        }

        @Override
        public void norms(double p, double[] out) {
            double[][] r = read(measure(p));
            for (int t = 0; t < n; t++) {
                out[t] = r[t][0];
                scans[t] = new double[] {r[t][1], r[t][2], r[t][3]};
            }
        }

        private double[] scan(int tensor) {
            if (scans[tensor] == null) {
                double[][] r = read(measure(2.0));
                for (int t = 0; t < n; t++) {
                    scans[t] = new double[] {r[t][1], r[t][2], r[t][3]};
                }
            }
            return scans[tensor];
        }

        @Override
        public long nonFiniteCount(int tensor) {
            return (long) scan(tensor)[0];
        }

        @Override
        public long firstNonFinite(int tensor) {
            return (long) scan(tensor)[1];
        }

        @Override
        public float get(int tensor, long index) {
            double[] s = scans[tensor];
            if (s != null && s[1] == index && index >= 0) {
                return (float) s[2];
            }
            return (float) read((t, one) -> t == tensor ? new double[] {one.get(0, index)} : null)[tensor][0];
        }

        @Override
        public void set(int tensor, long index, float value) {
            if (index < 0 || index >= size(tensor)) {
                throw new IndexOutOfBoundsException("index " + index + " of tensor '" + name(tensor) + "' of "
                        + size(tensor) + " elements");
            }
            write(tensor, new Write(Write.Kind.SET, value, index, null));
        }

        @Override
        public long zeroNonFinite(int tensor) {
            long count = nonFiniteCount(tensor);
            if (count > 0) {
                write(tensor, new Write(Write.Kind.ZERO, 0, -1, null));
            }
            return count;
        }

        @Override
        public void scale(int tensor, double factor) {
            write(tensor, new Write(Write.Kind.SCALE, factor, -1, null));
        }

        @Override
        public long clamp(int tensor, double limit) {
            return clampAndMeasure(tensor, limit, new double[n]);
        }

        @Override
        public long clampAndMeasure(int tensor, double limit, double[] normAfter) {
            if (clamps[tensor] == null || Double.compare(limit, clampLimit) != 0) {
                // every tensor clamped on a copy and measured, as gradclip-core's kernel does in one pass
                double[][] r = read((t, one) -> {
                    float[] copy = one.gradient(0).clone();
                    GradientSet c = GradientSet.builder().add("t", copy, one.shape(0)).build();
                    double[] after = new double[1];
                    long changed = c.clampAndMeasure(0, limit, after);
                    return new double[] {changed, after[0]};
                });
                System.arraycopy(r, 0, clamps, 0, n);
                clampLimit = limit;
            }
            double[] c = clamps[tensor];
            normAfter[tensor] = c[1];
            if (c[0] > 0) {
                write(tensor, new Write(Write.Kind.CLAMP, limit, -1, null));
            }
            return (long) c[0];
        }

        @Override
        public int unitCount(int tensor) {
            long[] shape = shapes[tensor];
            return shape.length >= 2 ? Math.toIntExact(shape[0]) : 1;
        }

        @Override
        public void unitNorms(int tensor, boolean parameter, double[] out) {
            if (parameter && !parameters) {
                throw new IllegalStateException("tensor '" + name(tensor) + "' has no parameter values; distribute"
                        + " them with the gradients");
            }
            if (units[tensor] == null) {
                double[][] r = read((t, one) -> {
                    int u = one.unitCount(0);
                    double[] both = new double[one.hasParameter(0) ? 2 * u : u];
                    double[] part = new double[u];
                    one.unitNorms(0, false, part);
                    System.arraycopy(part, 0, both, 0, u);
                    if (one.hasParameter(0)) {
                        one.unitNorms(0, true, part);
                        System.arraycopy(part, 0, both, u, u);
                    }
                    return both;
                });
                for (int t = 0; t < n; t++) {
                    if (units[t] == null) {
                        units[t] = r[t];
                    }
                }
            }
            int u = unitCount(tensor);
            System.arraycopy(units[tensor], parameter ? u : 0, out, 0, u);
        }

        @Override
        public void scaleUnits(int tensor, double[] factors) {
            write(tensor, new Write(Write.Kind.SCALE_UNITS, 0, -1, factors.clone()));
        }
    }
}
