package dev.gradclip.djl;

import ai.djl.metric.Dimension;
import ai.djl.metric.Metrics;
import ai.djl.metric.Unit;
import dev.gradclip.ClipReport;
import dev.gradclip.TensorNorm;
import java.util.Objects;

/**
 * Writes a {@link ClipReport} into DJL {@link Metrics}, so that clipping shows up beside DJL's own
 * timings ({@code trainer.getMetrics()}) and in whatever consumes them.
 *
 * <p>Metric names, each with the given prefix (by default {@value #DEFAULT_PREFIX}):
 * <ul>
 *   <li>{@code norm}: the global norm before clipping; {@code clipped_norm}: after;</li>
 *   <li>{@code coefficient}, {@code threshold} (NaN for methods without one);</li>
 *   <li>{@code clipped} and {@code skipped}: 1 or 0; {@code non_finite}: the count of NaN and
 *       infinite gradient elements;</li>
 *   <li>{@code top_norm}: one metric per parameter in {@link ClipReport#largest()}, with dimensions
 *       {@code parameter} (the DJL parameter name) and {@code rank} (1 for the largest).</li>
 * </ul>
 * DJL's {@code Metrics} keeps every value it is given; call {@link Metrics#setLimit(int)} on long
 * runs.
 */
public final class ClipMetrics {

    /** The default prefix of every metric name. */
    public static final String DEFAULT_PREFIX = "gradclip_";

    private ClipMetrics() {
    }

    /**
     * Adds one metric per field of the report.
     *
     * @param metrics where to add; nothing happens when {@code null} (a trainer without metrics)
     * @param prefix  the prefix of every metric name
     * @param report  the report of one step
     */
    public static void record(Metrics metrics, String prefix, ClipReport report) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(report, "report");
        if (metrics == null) {
            return;
        }
        metrics.addMetric(prefix + "norm", report.normBefore());
        metrics.addMetric(prefix + "clipped_norm", report.normAfter());
        metrics.addMetric(prefix + "coefficient", report.coefficient());
        metrics.addMetric(prefix + "threshold", report.threshold());
        metrics.addMetric(prefix + "clipped", report.clipped() ? 1 : 0, Unit.COUNT);
        metrics.addMetric(prefix + "skipped", report.skipped() ? 1 : 0, Unit.COUNT);
        metrics.addMetric(prefix + "non_finite", report.nonFiniteCount(), Unit.COUNT);
        int rank = 1;
        for (TensorNorm t : report.largest()) {
            metrics.addMetric(prefix + "top_norm", t.norm(), Unit.NONE, new Dimension("parameter", t.name()),
                    new Dimension("rank", Integer.toString(rank++)));
        }
    }
}
