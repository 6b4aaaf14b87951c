package dev.gradclip.spark;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.GradientSet;
import dev.gradclip.Gradients;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Sharded mode: the gradient tensors of one step live on the partitions that own them (tensor
 * {@code t} on partition {@code t mod N}), and clipping exchanges only per-tensor norms, never the
 * gradients. {@link DataParallel#gradientSharded} leaves a batch's summed gradient there (a
 * reduce-scatter); {@link #distribute} places tensors given on the driver.
 *
 * <p>{@link #clip} runs any clipper that decides from per-tensor norms and scales whole tensors
 * (global norm, ZClip, AutoClip, AdaGC, ...) on the driver, on a view whose
 * {@link Gradients#norms} is one Spark job: each owner measures its tensors with gradclip-core's
 * kernels and sends back one double per tensor, which the driver puts in global index order, so
 * the clipper combines exactly the numbers the single-machine clipper combines and its coefficient
 * is the same, bit for bit (the owners must use the same kernel: the same JDK and
 * {@code --add-modules jdk.incubator.vector} setting as the driver). The factors the clipper
 * chooses, one per tensor, go back to the owners in a second job, which scales their tensors.
 *
 * <p>This is the place the reducer of gradclip-core's clippers ({@code AbstractClipper}) will take:
 * the exchange is "gather per-tensor norms to the driver, broadcast the coefficient".
 *
 * <p>Clippers that read or write single elements or units (value clipping, AGC) and the
 * non-finite scan (which only runs when a norm is NaN or infinite) need the elements and throw
 * {@link UnsupportedOperationException} here.
 */
public final class ShardedGradients {

    private final JavaSparkContext context;
    private final List<String> names;
    private final List<long[]> shapes;
    private final int owners;
    private JavaRDD<Owned> tensors;

    /**
     * One tensor held by its owner.
     *
     * @param tensor   the tensor's global index
     * @param gradient its values
     */
    public record Owned(int tensor, float[] gradient) implements Serializable {
    }

    ShardedGradients(JavaSparkContext context, List<String> names, List<long[]> shapes, int owners,
            JavaRDD<Owned> tensors) {
        this.context = context;
        this.names = List.copyOf(names);
        this.shapes = List.copyOf(shapes);
        this.owners = owners;
        this.tensors = tensors;
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
        List<Owned> all = new ArrayList<>();
        for (int t = 0; t < gradients.length; t++) {
            all.add(new Owned(t, gradients[t].clone()));
        }
        JavaRDD<Owned> rdd = context.parallelize(all, 1).mapToPair(o -> new Tuple2<>(o.tensor(), o))
                .partitionBy(new OwnerPartitioner(owners)).values().cache();
        return new ShardedGradients(context, List.copyOf(names), List.copyOf(shapes), owners, rdd);
    }

    /**
     * Clips the sharded gradients with {@code clipper}, exchanging per-tensor norms only.
     *
     * @param clipper the clipper (its statistics stay on the driver)
     * @return the clipper's report, as on one machine
     * @throws UnsupportedOperationException if the clipper needs single elements
     */
    public ClipReport clip(Clipper clipper) {
        NormsView view = new NormsView();
        ClipReport report = clipper.clip(view);
        if (view.scaled) {
            Broadcast<double[]> factors = context.broadcast(view.factors);
            JavaRDD<Owned> before = tensors;
            tensors = before.map(o -> {
                double f = factors.value()[o.tensor()];
                if (f == 1.0) {
                    return o;
                }
                // as gradclip-core's kernels scale: each element times the factor rounded to float
                float[] g = o.gradient().clone();
                GradientSet.of(g).scale(0, f);
                return new Owned(o.tensor(), g);
            }).cache();
            tensors.count();
            // the factors stay in the new tensors' lineage (a lost partition is recomputed from
            // them); Spark's context cleaner frees them with the tensors
            before.unpersist(false);
        }
        return report;
    }

    /**
     * Per-tensor {@code p}-norms measured by the owners, in global index order: one Spark job.
     *
     * @param p the norm's type
     * @return one norm per tensor
     */
    public double[] norms(double p) {
        List<double[]> pairs = tensors.mapPartitions((Iterator<Owned> it) -> {
            List<double[]> out = new ArrayList<>();
            double[] one = new double[1];
            while (it.hasNext()) {
                Owned o = it.next();
                GradientSet.of(o.gradient()).norms(p, one);
                out.add(new double[] {o.tensor(), one[0]});
            }
            return out.iterator();
        }).collect();
        double[] norms = new double[names.size()];
        Arrays.fill(norms, Double.NaN);
        for (double[] pair : pairs) {
            norms[(int) pair[0]] = pair[1];
        }
        return norms;
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

    /**
     * What the clipper sees on the driver: names and shapes, per-tensor norms from the owners, and
     * scale factors recorded for the owners to apply.
     */
    private final class NormsView implements Gradients {
        final double[] factors = new double[names.size()];
        boolean scaled;

        NormsView() {
            Arrays.fill(factors, 1.0);
        }

        @Override
        public int tensorCount() {
            return names.size();
        }

        @Override
        public String name(int tensor) {
            return names.get(tensor);
        }

        @Override
        public String group(int tensor) {
            return names.get(tensor);
        }

        @Override
        public long[] shape(int tensor) {
            return shapes.get(tensor).clone();
        }

        @Override
        public long size(int tensor) {
            long n = 1;
            for (long d : shapes.get(tensor)) {
                n *= d;
            }
            return n;
        }

        @Override
        public boolean hasParameter(int tensor) {
            return false;
        }

        @Override
        public void norms(double p, double[] out) {
            double[] n = ShardedGradients.this.norms(p);
            System.arraycopy(n, 0, out, 0, n.length);
        }

        @Override
        public void scale(int tensor, double factor) {
            factors[tensor] *= factor;
            scaled = true;
        }

        private UnsupportedOperationException elements(String what) {
            return new UnsupportedOperationException("sharded gradients exchange per-tensor norms only: " + what
                    + " needs the elements, which stay on their owners; use a norm-based clipper");
        }

        @Override
        public long nonFiniteCount(int tensor) {
            throw elements("counting non-finite values");
        }

        @Override
        public long firstNonFinite(int tensor) {
            throw elements("finding a non-finite value");
        }

        @Override
        public float get(int tensor, long index) {
            throw elements("reading an element");
        }

        @Override
        public void set(int tensor, long index, float value) {
            throw elements("writing an element");
        }

        @Override
        public long zeroNonFinite(int tensor) {
            throw elements("zeroing non-finite values");
        }

        @Override
        public long clamp(int tensor, double limit) {
            throw elements("clamping elements");
        }

        @Override
        public int unitCount(int tensor) {
            throw elements("unit-wise clipping");
        }

        @Override
        public void unitNorms(int tensor, boolean parameter, double[] out) {
            throw elements("unit-wise clipping");
        }

        @Override
        public void scaleUnits(int tensor, double[] factors) {
            throw elements("unit-wise clipping");
        }
    }
}
