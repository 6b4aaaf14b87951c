package dev.gradclip.spark;

import java.util.Objects;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A Spark context started for gradclip, with the settings it uses. Applications that do not compile
 * against Spark (the {@code gradclip} command, which puts Spark's jars on its class path only for
 * {@code train --spark}) start and stop Spark through this class and {@link DataParallel#on}.
 */
public final class Spark implements AutoCloseable {

    private final JavaSparkContext context;

    private Spark(JavaSparkContext context) {
        this.context = context;
    }

    /**
     * Starts a Spark context on {@code master} with {@link #conf}.
     *
     * @param master  the master URL: {@code local[2]}, {@code local[2,3]}, {@code spark://host:7077}, ...
     * @param appName the application's name
     * @return the running context; close it to stop it
     */
    public static Spark start(String master, String appName) {
        return new Spark(new JavaSparkContext(conf(master, appName)));
    }

    /**
     * A configuration for a run on {@code master}, quiet and small: no web UI, and the driver bound
     * to the loopback address when the master is local ({@code local[N]}, or {@code local[N,F]},
     * which allows each task {@code F} attempts).
     *
     * @param master  the master URL
     * @param appName the application's name
     * @return the configuration
     */
    public static SparkConf conf(String master, String appName) {
        Objects.requireNonNull(master, "master");
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName).set("spark.ui.enabled", "false");
        if (master.startsWith("local")) {
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        return conf;
    }

    /** @return the context */
    public JavaSparkContext context() {
        return context;
    }

    /** @return Spark's default parallelism: N for {@code local[N]}, the executors' cores on a cluster */
    public int defaultParallelism() {
        return context.defaultParallelism();
    }

    /** Stops the context. */
    @Override
    public void close() {
        context.stop();
    }
}
