package dev.gradclip.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.LayerHealth;
import dev.gradclip.cli.run.MetricsWriter;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.RunLoop;
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
        Path f = dir.resolve(RunLoop.SUMMARY);
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
        int heatMaps = 0;
        for (int i = 0; i < runs.size(); i++) {
            RunSeries r = runs.get(i);
            LayerHealth h = new LayerHealth(r.layers(), r.layerNorms(), r.steps().length);
            boolean named = !h.exploding().isEmpty() || !h.vanishing().isEmpty();
            boolean heat = heatMaps < MAX_HEAT_MAPS || named && heatMaps < 3 * MAX_HEAT_MAPS;
            heatMaps += heat ? 1 : 0;
            runData.add(runData(r, i, heat));
        }
        data.put("runs", runData);
        data.put("bands", bands(runs));
        data.put("exploding_growth", LayerHealth.EXPLODING_GROWTH);
        data.put("vanishing_relative", LayerHealth.VANISHING_RELATIVE);
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

    private static Map<String, Object> runData(RunSeries r, int index, boolean heat) {
        int n = r.steps().length;
        int stride = Math.max(1, (n + MAX_POINTS - 1) / MAX_POINTS);
        int window = smoothingWindow(n);
        double[] smooth = smoothLog(r.loss(), window);
        List<Long> steps = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> lossSmooth = new ArrayList<>();
        List<Double> grad = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        List<Double> thr = new ArrayList<>();
        List<Double> lr = new ArrayList<>();
        boolean anyThreshold = false;
        for (int i = 0; i < n; i++) {
            anyThreshold |= Double.isFinite(r.threshold()[i]);
        }
        for (int i = 0; i < n; i = i + stride < n || i == n - 1 ? i + stride : n - 1) {
            steps.add(r.steps()[i]);
            loss.add(positiveOrNull(r.loss()[i]));
            lossSmooth.add(positiveOrNull(smooth[i]));
            grad.add(positiveOrNull(r.gradNorm()[i]));
            after.add(positiveOrNull(r.clippedNorm()[i]));
            thr.add(positiveOrNull(r.threshold()[i]));
            if (r.lr() != null) {
                lr.add(finiteOrNull(r.lr()[i]));
            }
        }
        List<List<Object>> eval = new ArrayList<>();
        List<Long> nonFinite = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (Double.isFinite(r.eval()[i])) {
                eval.add(List.of(r.steps()[i], r.eval()[i]));
            }
            // written as null: a NaN or infinite gradient norm or loss
            if (!Double.isFinite(r.gradNorm()[i]) || !Double.isFinite(r.loss()[i])) {
                nonFinite.add(r.steps()[i]);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("anchor", "run-" + (index + 1));
        m.put("summary", r.summary());
        m.put("step", steps);
        m.put("loss", loss);
        m.put("loss_smooth", lossSmooth);
        m.put("smoothing", window);
        m.put("eval", eval);
        m.put("eval_metric", r.summary() != null ? r.summary().path("eval").path("metric").asText("eval") : "eval");
        m.put("grad_norm", grad);
        m.put("clipped_norm", after);
        m.put("threshold", anyThreshold ? thr : null);
        m.put("lr", r.lr() != null ? lr : null);
        m.put("clip_fraction", clipFraction(r));
        m.put("clipped_count", count(r.clipped()));
        m.put("skipped", markers(r, r.skipped()));
        m.put("skipped_count", count(r.skipped()));
        m.put("non_finite", nonFinite);
        m.put("layers", r.layers());
        LayerHealth health = new LayerHealth(r.layers(), r.layerNorms(), n);
        m.put("reference", finiteOrNull(health.reference()));
        m.put("exploding", health.exploding());
        m.put("vanishing", health.vanishing());
        m.put("explosion_window", LayerHealth.window(n));
        if (heat && n > 0 && !r.layers().isEmpty()) {
            m.put("heat", heat(r, health.reference()));
        }
        return m;
    }

    /** The window of the smoothed loss: a fiftieth of the run, at least 1 step. */
    static int smoothingWindow(int n) {
        return Math.max(1, n / 50);
    }

    /** A trailing geometric mean over {@code window} steps of the finite positive values; NaN where none. */
    static double[] smoothLog(double[] v, int window) {
        double[] out = new double[v.length];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < v.length; i++) {
            if (v[i] > 0 && Double.isFinite(v[i])) {
                sum += Math.log(v[i]);
                count++;
            }
            if (i >= window && v[i - window] > 0 && Double.isFinite(v[i - window])) {
                sum -= Math.log(v[i - window]);
                count--;
            }
            out[i] = count > 0 ? Math.exp(sum / count) : Double.NaN;
        }
        return out;
    }

    /** The fraction of steps clipped in each of about 60 windows: {@code [first step, last step, fraction]}. */
    private static List<List<Object>> clipFraction(RunSeries r) {
        int n = r.steps().length;
        int w = Math.max(1, (n + 59) / 60);
        List<List<Object>> out = new ArrayList<>();
        for (int from = 0; from < n; from += w) {
            int to = Math.min(n, from + w);
            int c = 0;
            for (int i = from; i < to; i++) {
                c += r.clipped()[i] ? 1 : 0;
            }
            out.add(List.of(r.steps()[from], r.steps()[to - 1], Math.round(1000.0 * c / (to - from)) / 1000.0, c));
        }
        return out;
    }

    private static int count(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) {
            c += f ? 1 : 0;
        }
        return c;
    }

    /** Log axes cannot show 0, negatives or non-finite values: those become gaps. */
    private static Double positiveOrNull(double v) {
        return v > 0 && Double.isFinite(v) ? v : null;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static List<List<Object>> markers(RunSeries r, boolean[] flags) {
        int count = count(flags);
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
     * The heat map: columns are buckets of consecutive steps, rows are layers, and a cell holds
     * log10 of the layer's median norm over the bucket relative to the run's reference norm (see
     * {@link LayerHealth}), or is listed as non-finite when any norm in it is. A zero norm is -99.
     */
    private static Map<String, Object> heat(RunSeries r, double reference) {
        int n = r.steps().length;
        int buckets = Math.min(n, MAX_BUCKETS);
        double ref = reference > 0 ? reference : 1.0;
        List<Long> columns = new ArrayList<>();
        List<List<Object>> cells = new ArrayList<>();
        List<List<Object>> nonFinite = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            columns.add(r.steps()[from]);
            for (int l = 0; l < r.layers().size(); l++) {
                double[] vals = new double[to - from];
                int count = 0;
                boolean bad = false;
                for (int s = from; s < to; s++) {
                    double v = r.layerNorms()[l][s];
                    if (!Double.isFinite(v)) {
                        bad |= !Double.isNaN(v) || !isMissing(r, s);
                    } else {
                        vals[count++] = v;
                    }
                }
                if (bad) {
                    nonFinite.add(List.of(b, l, 0));
                } else if (count > 0) {
                    java.util.Arrays.sort(vals, 0, count);
                    double med = count % 2 == 1 ? vals[count / 2] : 0.5 * (vals[count / 2 - 1] + vals[count / 2]);
                    double v = med > 0 ? Math.log10(med / ref) : -99;
                    cells.add(List.of(b, l, Math.round(v * 100) / 100.0));
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("columns", columns);
        m.put("cells", cells);
        m.put("non_finite", nonFinite);
        return m;
    }

    /**
     * The runs grouped by task, then by clip spec (and optimizer, when a task's runs use several):
     * per group, the median and range over its seeds of the smoothed loss, the pre-clip gradient norm
     * (smoothed the same way) and the held-out metric, with its outcome counts.
     */
    private static List<Object> bands(List<RunSeries> runs) {
        Map<String, Map<String, List<RunSeries>>> byTask = new LinkedHashMap<>();
        for (RunSeries r : runs) {
            JsonNode s = r.summary();
            String task = s != null ? s.path("task").asText("") : "";
            String clip = s != null ? s.path("clip").asText(r.name()) : r.name();
            String opt = s != null ? s.path("optimizer").asText("") : "";
            byTask.computeIfAbsent(task, k -> new LinkedHashMap<>()).computeIfAbsent(clip + "\u0000" + opt,
                    k -> new ArrayList<>()).add(r);
        }
        List<Object> out = new ArrayList<>();
        for (Map.Entry<String, Map<String, List<RunSeries>>> t : byTask.entrySet()) {
            boolean several = t.getValue().values().stream().anyMatch(g -> g.size() > 1);
            if (!several) {
                continue;
            }
            java.util.Set<String> clips = new java.util.HashSet<>();
            boolean clipRepeats = false;
            for (String key : t.getValue().keySet()) {
                clipRepeats |= !clips.add(key.substring(0, key.indexOf('\u0000')));
            }
            List<Object> groups = new ArrayList<>();
            for (Map.Entry<String, List<RunSeries>> g : t.getValue().entrySet()) {
                String[] parts = g.getKey().split("\u0000", -1);
                String label = parts[0] + (clipRepeats && !parts[1].isEmpty() ? " (" + parts[1] + ")" : "");
                groups.add(band(label, g.getValue(), runs));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", t.getKey());
            m.put("groups", groups);
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> band(String label, List<RunSeries> group, List<RunSeries> all) {
        int n = 0;
        for (RunSeries r : group) {
            n = Math.max(n, r.steps().length);
        }
        int window = smoothingWindow(n);
        List<double[]> losses = new ArrayList<>();
        List<double[]> norms = new ArrayList<>();
        for (RunSeries r : group) {
            losses.add(smoothLog(r.loss(), window));
            norms.add(smoothLog(r.gradNorm(), window));
        }
        int stride = Math.max(1, (n + MAX_POINTS - 1) / MAX_POINTS);
        List<Long> steps = new ArrayList<>();
        List<List<Double>> loss = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<List<Double>> norm = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        RunSeries longest = group.stream().filter(r -> r.steps().length == group.stream()
                .mapToInt(x -> x.steps().length).max().orElse(0)).findFirst().orElseThrow();
        for (int i = 0; i < n; i = i + stride < n || i == n - 1 ? i + stride : n - 1) {
            steps.add(longest.steps()[i]);
            addStats(losses, i, loss);
            addStats(norms, i, norm);
        }
        List<List<Object>> eval = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Double> v = new ArrayList<>();
            for (RunSeries r : group) {
                if (i < r.eval().length && Double.isFinite(r.eval()[i])) {
                    v.add(r.eval()[i]);
                }
            }
            if (!v.isEmpty()) {
                v.sort(null);
                eval.add(List.of(longest.steps()[i], median(v), v.get(0), v.get(v.size() - 1), v.size()));
            }
        }
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        List<List<Object>> diverged = new ArrayList<>();
        List<String> anchors = new ArrayList<>();
        for (RunSeries r : group) {
            String o = r.summary() != null ? r.summary().path("outcome").asText("") : "";
            if (!o.isEmpty()) {
                outcomes.merge(o, 1, Integer::sum);
            }
            if ("diverged".equals(o) && r.steps().length > 0) {
                diverged.add(List.of(r.steps()[r.steps().length - 1], r.name()));
            }
            anchors.add("run-" + (all.indexOf(r) + 1));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("runs", group.size());
        m.put("outcomes", outcomes);
        m.put("anchors", anchors);
        m.put("smoothing", window);
        m.put("step", steps);
        m.put("loss", loss);
        m.put("grad_norm", norm);
        m.put("eval", eval);
        m.put("diverged", diverged);
        return m;
    }

    /** Appends the median, minimum and maximum over the series that have a positive value at index i. */
    private static void addStats(List<double[]> series, int i, List<List<Double>> out) {
        List<Double> v = new ArrayList<>();
        for (double[] a : series) {
            if (i < a.length && a[i] > 0 && Double.isFinite(a[i])) {
                v.add(a[i]);
            }
        }
        v.sort(null);
        out.get(0).add(v.isEmpty() ? null : median(v));
        out.get(1).add(v.isEmpty() ? null : v.get(0));
        out.get(2).add(v.isEmpty() ? null : v.get(v.size() - 1));
    }

    private static double median(List<Double> sorted) {
        int k = sorted.size();
        return k % 2 == 1 ? sorted.get(k / 2) : 0.5 * (sorted.get(k / 2 - 1) + sorted.get(k / 2));
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
