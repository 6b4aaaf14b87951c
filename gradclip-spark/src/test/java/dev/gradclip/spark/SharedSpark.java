package dev.gradclip.spark;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * One {@code local[2,3]} context for every test class of the module (a context takes about 10 s to
 * start on a small machine): two worker threads, each task tried up to three times. Stopped when the
 * test JVM exits.
 */
final class SharedSpark {

    private static JavaSparkContext context;

    private SharedSpark() {
    }

    static synchronized JavaSparkContext context() {
        if (context == null) {
            context = new JavaSparkContext(Spark.conf("local[2,3]", "gradclip-spark-tests"));
            JavaSparkContext c = context;
            Runtime.getRuntime().addShutdownHook(new Thread(c::stop));
        }
        return context;
    }
}
