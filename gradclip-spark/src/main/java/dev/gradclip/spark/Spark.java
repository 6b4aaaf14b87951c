package dev.gradclip.spark;

import org.apache.spark.SparkConf;

/** Spark settings gradclip uses. */
public final class Spark {

    private Spark() {
    }

    /**
     * A configuration for a run on {@code master}, quiet and small: no web UI, the driver bound to
     * the loopback address when the master is local ({@code local[N]} or {@code local[N,F]}, the
     * latter allowing each task {@code F} attempts).
     *
     * @param master  the master URL: {@code local[2]}, {@code spark://host:7077}, {@code yarn}, ...
     * @param appName the application's name
     * @return the configuration
     */
    public static SparkConf conf(String master, String appName) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName).set("spark.ui.enabled", "false");
        if (master.startsWith("local")) {
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        return conf;
    }
}
