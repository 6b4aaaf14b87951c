package dev.gradclip.spark;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.GradientShard;
import dev.gradclip.TensorLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Measures one exchange of norms on Spark both ways, on the seven tensors of
 * {@link ShardedGradientsTest} ({@code 5 + 2k} doubles per worker): a barrier stage's
 * {@link BarrierNormExchange#allGather} (timed inside the tasks), a whole sharded clip step in the
 * barrier stage ({@code Clippers.sharded(globalNorm)}), and the driver loop's
 * {@link ShardedGradients#norms} job and whole {@link ShardedGradients#clip}. Not a test: run it
 * with the test class path as {@link SparkOverhead} (see docs/spark.md).
 */
public final class BarrierOverhead {

    private BarrierOverhead() {
    }

    /**
     * @param args master (default {@code local[2]}), calls (default 20)
     */
    public static void main(String[] args) {
        String master = args.length > 0 ? args[0] : "local[2]";
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int warmup = 3;
        try (JavaSparkContext sc = new JavaSparkContext(Spark.conf(master, "gradclip-barrier-overhead"))) {
            int workers = sc.defaultParallelism();
            TensorLayout layout = new TensorLayout(ShardedGradientsTest.names(), ShardedGradientsTest.names());
            List<double[][]> perTask = Barrier.run(sc, workers, (worker, exchange) -> {
                double[] gather = new double[calls];
                double[] clip = new double[calls];
                double[] payload = new double[5 + 2 * 4];
                Clipper clipper = Clippers.sharded(Clippers.globalNorm(1e-3), exchange);
                for (int s = -warmup; s < calls; s++) {
                    float[][] g = ShardedGradientsTest.gradients(new Random(s + 10), 1.0);
                    GradientSet.Builder b = GradientSet.builder();
                    for (int t = worker; t < g.length; t += workers) {
                        b.add("layer" + t, g[t], g[t].length);
                    }
                    GradientShard mine = GradientShard.of(b.build(), layout);
                    long t0 = System.nanoTime();
                    exchange.allGather(payload);
                    long t1 = System.nanoTime();
                    clipper.clip(mine);
                    long t2 = System.nanoTime();
                    if (s >= 0) {
                        gather[s] = (t1 - t0) / 1e6;
                        clip[s] = (t2 - t1) / 1e6;
                    }
                }
                return new double[][] {gather, clip};
            });
            double[] norms = new double[calls];
            double[] clips = new double[calls];
            for (int s = -warmup; s < calls; s++) {
                float[][] g = ShardedGradientsTest.gradients(new Random(s + 10), 1.0);
                ShardedGradients owned = ShardedGradients.distribute(sc, g, ShardedGradientsTest.names(),
                        ShardedGradientsTest.shapes(), workers);
                long t0 = System.nanoTime();
                owned.norms(2.0);
                long t1 = System.nanoTime();
                owned.clip(Clippers.globalNorm(1e-3));
                long t2 = System.nanoTime();
                if (s >= 0) {
                    norms[s] = (t1 - t0) / 1e6;
                    clips[s] = (t2 - t1) / 1e6;
                }
            }
            System.out.printf("master %s, %d workers, %d calls after %d warm-up; ms: median (min, max)%n", master,
                    workers, calls, warmup);
            for (int w = 0; w < perTask.size(); w++) {
                System.out.printf("barrier task %d: allGather %s, sharded clip step %s%n", w,
                        summary(perTask.get(w)[0]), summary(perTask.get(w)[1]));
            }
            System.out.printf("driver loop: norms job %s, ShardedGradients.clip(globalNorm) %s%n", summary(norms),
                    summary(clips));
        }
    }

    private static String summary(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return String.format("%.1f (%.1f, %.1f)", c[c.length / 2], c[0], c[c.length - 1]);
    }
}
