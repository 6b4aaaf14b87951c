package dev.gradclip.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.MetricsWriter;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The self-contained HTML report: one file with the charting library (Apache ECharts, taken from
 * its WebJar at build time) and the data inlined, so it opens offline from disk.
 *
 * <p>It draws, for all runs overlaid: the loss, and the pre-clip gradient norm on a log scale with
 * each run's threshold dashed over it, clipped steps as dots and skipped steps as red triangles;
 * then, per run, a heat map of every layer's gradient norm over time (log10, non-finite cells in
 * black) so that an exploding or vanishing layer is visible at a glance; and a table of runs (and,
 * for {@code compare}, of rows per clip spec). Long runs are thinned to at most
 * {@value #MAX_POINTS} points per curve and {@value #MAX_BUCKETS} heat-map columns.
 */
public final class HtmlReport {

    /** The report's file name. */
    public static final String FILE = "report.html";
    /** The most points a curve keeps. */
    public static final int MAX_POINTS = 2000;
    /** The most columns (time buckets) a heat map keeps. */
    public static final int MAX_BUCKETS = 200;
    /** The most runs that get a heat map (the first ones). */
    public static final int MAX_HEAT_MAPS = 12;

    private static final String ECHARTS_TOKEN = "/*@ECHARTS@*/";
    private static final String DATA_TOKEN = "@DATA@";
    private static final String TITLE_TOKEN = "@TITLE@";

    private HtmlReport() {
    }

    /**
     * Finds the runs under a folder: the folder itself when it holds {@code metrics.jsonl}, else
     * its sub-folders that do (two levels deep), in the order of the folder's {@code summary.json}
     * {@code runs[].folder} when given, else by path.
     *
     * @param dir the folder
     * @return the run folders
     * @throws UsageException if there are none
     */
    public static List<Path> findRuns(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UsageException("report folder " + dir + " does not exist or is not a folder");
        }
        if (Files.isRegularFile(dir.resolve(MetricsWriter.FILE))) {
            return List.of(dir);
        }
        List<Path> found = new ArrayList<>();
        JsonNode top = readSummary(dir);
        if (top != null && top.path("runs").isArray()) {
            for (JsonNode run : top.get("runs")) {
                if (run.hasNonNull("folder")) {
                    Path p = dir.resolve(run.get("folder").asText()).normalize();
                    if (p.startsWith(dir.normalize()) && Files.isRegularFile(p.resolve(MetricsWriter.FILE))) {
                        found.add(p);
                    }
                }
            }
        }
        if (found.isEmpty()) {
            try (Stream<Path> s = Files.find(dir, 3, (p, a) -> p.getFileName().toString().equals(MetricsWriter.FILE)
                    && a.isRegularFile())) {
                s.map(Path::getParent).sorted().forEach(found::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
        }
        if (found.isEmpty()) {
            throw new UsageException("no runs in " + dir + ": expected " + MetricsWriter.FILE
                    + " there or in its sub-folders (written by gradclip train, compare or demo)");
        }
        return found;
    }

    /**
     * @param dir a folder
     * @return its {@code summary.json} parsed, or {@code null} when absent or unreadable
     */
    public static JsonNode readSummary(Path dir) {
        Path f = dir.resolve(Trainer.SUMMARY);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return Json.read(Files.readString(f, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Rebuilds {@code report.html} in a folder from the metrics files found there.
     *
     * @param dir   the folder
     * @param title the report's title, unless the folder's {@code summary.json} names one
     * @return the report's path
     * @throws UsageException if the folder holds no runs or cannot be written
     */
    public static Path rebuild(Path dir, String title) {
        List<RunSeries> runs = new ArrayList<>();
        for (Path p : findRuns(dir)) {
            runs.add(RunSeries.read(p));
        }
        JsonNode top = readSummary(dir);
        JsonNode rows = top != null && top.path("rows").isArray() ? top.get("rows") : null;
        String t = title;
        if (top != null && top.hasNonNull("title")) {
            t = top.get("title").asText();
        } else if (top != null && top.hasNonNull("task") && top.hasNonNull("clip")) {
            t = "gradclip train: " + top.get("task").asText() + " with " + top.get("clip").asText();
        }
        OutputFolder folder = OutputFolder.prepare(dir);
        String verdict = top != null && top.hasNonNull("verdict") ? top.get("verdict").asText() : null;
        return folder.write(FILE, render(t, runs, rows, verdict));
    }

    /**
     * Renders the report.
     *
     * @param title the title
     * @param runs  the runs, in display order
     * @param rows    the compare table's rows, or {@code null}
     * @param verdict the comparison's verdict sentence, or {@code null}
     * @return the HTML
     */
    public static String render(String title, List<RunSeries> runs, JsonNode rows, String verdict) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("title", title);
        List<Object> runData = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            runData.add(runData(runs.get(i), i < MAX_HEAT_MAPS));
        }
        data.put("runs", runData);
        data.put("rows", rows);
        data.put("verdict", verdict);
        // "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can close the block
        String json = Json.line(data).replace("<", "\\u003c");
        String template = resource("report-template.html");
        String echarts = resource("echarts.min.js");
        StringBuilder out = new StringBuilder(template.length() + echarts.length() + json.length());
        int from = 0;
        for (String[] sub : new String[][] {{TITLE_TOKEN, escapeHtml(title)}, {ECHARTS_TOKEN, echarts},
                {DATA_TOKEN, json}}) {
            int at = template.indexOf(sub[0], from);
            if (at < 0) {
                throw new IllegalStateException("report template lacks " + sub[0]);
            }
            out.append(template, from, at).append(sub[1]);
            from = at + sub[0].length();
        }
        out.append(template, from, template.length());
        return out.toString();
    }

    private static Map<String, Object> runData(RunSeries r, boolean heat) {
        int n = r.steps().length;
        int stride = Math.max(1, (n + MAX_POINTS - 1) / MAX_POINTS);
        List<Long> steps = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> grad = new ArrayList<>();
        List<Double> thr = new ArrayList<>();
        boolean anyThreshold = false;
        for (int i = 0; i < n; i += stride) {
            add(i, r, steps, loss, grad, thr);
            anyThreshold |= Double.isFinite(r.threshold()[i]);
        }
        if (n > 0 && (n - 1) % stride != 0) {
            add(n - 1, r, steps, loss, grad, thr);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("summary", r.summary());
        m.put("step", steps);
        m.put("loss", loss);
        m.put("grad_norm", grad);
        m.put("threshold", anyThreshold ? thr : null);
        m.put("clipped", markers(r, r.clipped()));
        m.put("skipped", markers(r, r.skipped()));
        m.put("layers", r.layers());
        if (heat && n > 0 && !r.layers().isEmpty()) {
            m.put("heat", heat(r));
        }
        return m;
    }

    private static void add(int i, RunSeries r, List<Long> steps, List<Double> loss, List<Double> grad,
            List<Double> thr) {
        steps.add(r.steps()[i]);
        loss.add(positiveOrNull(r.loss()[i]));
        grad.add(positiveOrNull(r.gradNorm()[i]));
        thr.add(positiveOrNull(r.threshold()[i]));
    }

    /** Log axes cannot show 0, negatives or non-finite values: those become gaps. */
    private static Double positiveOrNull(double v) {
        return v > 0 && Double.isFinite(v) ? v : null;
    }

    private static List<List<Object>> markers(RunSeries r, boolean[] flags) {
        int count = 0;
        for (boolean f : flags) {
            count += f ? 1 : 0;
        }
        int stride = Math.max(1, (count + MAX_POINTS - 1) / MAX_POINTS);
        List<List<Object>> out = new ArrayList<>();
        int seen = 0;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i] && seen++ % stride == 0) {
                Double y = positiveOrNull(r.gradNorm()[i]);
                out.add(java.util.Arrays.asList(r.steps()[i], y));
            }
        }
        return out;
    }

    /**
     * The heat map: columns are buckets of consecutive steps, rows are layers, and a cell holds the
     * mean of log10 of the layer's norm over the bucket (a geometric mean), or is listed as
     * non-finite when any norm in it is.
     */
    private static Map<String, Object> heat(RunSeries r) {
        int n = r.steps().length;
        int buckets = Math.min(n, MAX_BUCKETS);
        List<Long> columns = new ArrayList<>();
        List<List<Object>> cells = new ArrayList<>();
        List<List<Object>> nonFinite = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            columns.add(r.steps()[from]);
            for (int l = 0; l < r.layers().size(); l++) {
                double sum = 0;
                int count = 0;
                boolean bad = false;
                for (int s = from; s < to; s++) {
                    double v = r.layerNorms()[l][s];
                    if (!Double.isFinite(v)) {
                        bad |= !Double.isNaN(v) || !isMissing(r, s);
                    } else {
                        // a zero norm is drawn at the floor of the scale rather than at -infinity
                        sum += Math.log10(Math.max(v, 1e-30));
                        count++;
                    }
                }
                if (bad) {
                    nonFinite.add(List.of(b, l, 0));
                } else if (count > 0) {
                    double v = sum / count;
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                    cells.add(List.of(b, l, Math.round(v * 1000) / 1000.0));
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("columns", columns);
        m.put("cells", cells);
        m.put("non_finite", nonFinite);
        m.put("min", Double.isFinite(min) ? Math.floor(min) : 0);
        m.put("max", Double.isFinite(max) ? Math.ceil(max) : 1);
        return m;
    }

    /** A NaN layer norm at a step whose gradient norm is finite means the layer was not recorded. */
    private static boolean isMissing(RunSeries r, int s) {
        return Double.isFinite(r.gradNorm()[s]);
    }

    private static String resource(String name) {
        try (InputStream in = HtmlReport.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name + " (run ./mvnw package)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
