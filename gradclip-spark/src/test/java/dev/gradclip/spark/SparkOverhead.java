package dev.gradclip.spark;

import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Measures the per-step cost of {@link DataParallel#gradient} (one Spark job) against the same
 * gradient computed in one process ({@link DataParallel#localGradient}), and of sharded mode
 * ({@link DataParallel#gradientSharded} then clipping by norms), for MLPs of several sizes on a
 * batch of 784-pixel examples. Not a test: run it with the test class path (see docs/spark.md):
 *
 * <pre>
 * java [Spark's --add-opens flags] -cp gradclip-spark/target/test-classes:gradclip-spark/target/classes:$(cat gradclip-spark/target/classpath.txt) \
 *     dev.gradclip.spark.SparkOverhead [master] [batch] [hidden...]
 * </pre>
 */
public final class SparkOverhead {

    private SparkOverhead() {
    }

    /**
     * @param args master (default {@code local[2]}), batch (default 256), hidden sizes (default 32 256 1024)
     */
    public static void main(String[] args) {
        String master = args.length > 0 ? args[0] : "local[2]";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int[] hidden = args.length > 2 ? Arrays.stream(args, 2, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {32, 256, 1024};
        int warmup = 5;
        int steps = 20;
        try (JavaSparkContext sc = new JavaSparkContext(Spark.conf(master, "gradclip-overhead"))) {
            int partitions = sc.defaultParallelism();
            System.out.printf("master %s, %d partitions, batch %d, %d steps after %d warm-up; medians in ms%n",
                    master, partitions, batch, steps, warmup);
            System.out.printf("%10s %12s %12s %12s %12s %12s%n", "hidden", "parameters", "one process", "spark",
                    "overhead", "sharded");
            for (int h : hidden) {
                TinyMlp model = new TinyMlp(784, h, 10);
                try (DataParallel exchange = DataParallel.of(sc, model, partitions)) {
                    float[][] params = exchange.initialParameters(1);
                    long count = 0;
                    for (float[] p : params) {
                        count += p.length;
                    }
                    double[] local = new double[steps];
                    double[] spark = new double[steps];
                    double[] sharded = new double[steps];
                    for (int s = -warmup; s < steps; s++) {
                        ShardBatch b = model.batch(batch, s);
                        long t0 = System.nanoTime();
                        exchange.localGradient(params, b);
                        long t1 = System.nanoTime();
                        exchange.gradient(params, b);
                        long t2 = System.nanoTime();
                        // reduce-scatter onto the owners, then global-norm clipping by norms only
                        exchange.gradientSharded(params, b).clip(dev.gradclip.Clippers.globalNorm(1e-3));
                        long t3 = System.nanoTime();
                        if (s >= 0) {
                            local[s] = (t1 - t0) / 1e6;
                            spark[s] = (t2 - t1) / 1e6;
                            sharded[s] = (t3 - t2) / 1e6;
                        }
                    }
                    double l = median(local);
                    double sp = median(spark);
                    System.out.printf("%10d %12d %12.1f %12.1f %12.1f %12.1f%n", h, count, l, sp, sp - l,
                            median(sharded));
                }
            }
        }
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
