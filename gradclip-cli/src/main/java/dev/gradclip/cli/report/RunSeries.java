package dev.gradclip.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.MetricsWriter;
import dev.gradclip.cli.run.RunLoop;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run's metrics read back from its folder ({@code metrics.jsonl} and, if present,
 * {@code summary.json}), as the report draws them.
 *
 * @param name       the run's name (the summary's {@code name}, else the folder's)
 * @param summary    the summary, or {@code null} when the folder has none
 * @param steps      step numbers
 * @param loss       loss per step (NaN for {@code null})
 * @param gradNorm   pre-clip gradient norm per step
 * @param clippedNorm gradient norm after clipping per step
 * @param threshold  threshold per step (NaN when the method has none)
 * @param clipped    whether each step was clipped
 * @param skipped    whether each step was skipped
 * @param layers     layer names
 * @param layerNorms {@code layerNorms[l][s]}: layer l's gradient norm at step s
 * @param eval       the held-out metric per step (NaN on steps not evaluated)
 * @param lr         the learning rate per step, or {@code null} when the metrics do not carry {@code lr}
 */
public record RunSeries(String name, JsonNode summary, long[] steps, double[] loss, double[] gradNorm,
        double[] clippedNorm, double[] threshold, boolean[] clipped, boolean[] skipped, List<String> layers,
        double[][] layerNorms, double[] eval, double[] lr) {

    /**
     * Reads a run folder.
     *
     * @param dir a folder holding {@code metrics.jsonl}
     * @return the series
     * @throws UsageException if the metrics file is missing or not JSON Lines
     */
    public static RunSeries read(Path dir) {
        Path metrics = dir.resolve(MetricsWriter.FILE);
        if (!Files.isRegularFile(metrics)) {
            throw new UsageException("no " + MetricsWriter.FILE + " in " + dir);
        }
        JsonNode summary = null;
        Path summaryFile = dir.resolve(RunLoop.SUMMARY);
        try {
            if (Files.isRegularFile(summaryFile)) {
                summary = Json.read(Files.readString(summaryFile, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UsageException("cannot read " + summaryFile + ": " + oneLine(e));
        }
        List<JsonNode> rows = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(metrics, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    rows.add(Json.read(line));
                } catch (IOException e) {
                    throw new UsageException(metrics + " line " + lineNo + " is not JSON: " + oneLine(e));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + metrics, e);
        }
        int n = rows.size();
        long[] steps = new long[n];
        double[] loss = new double[n];
        double[] grad = new double[n];
        double[] thr = new double[n];
        double[] after = new double[n];
        double[] eval = new double[n];
        double[] lr = new double[n];
        boolean anyLr = false;
        boolean[] clipped = new boolean[n];
        boolean[] skipped = new boolean[n];
        Map<String, double[]> layerMap = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            JsonNode row = rows.get(i);
            steps[i] = row.path("step").asLong(i + 1);
            loss[i] = Json.number(row.get("loss"));
            grad[i] = Json.number(row.get("grad_norm"));
            thr[i] = Json.number(row.get("threshold"));
            after[i] = Json.number(row.get("clipped_norm"));
            eval[i] = row.has("eval") ? Json.number(row.get("eval")) : Double.NaN;
            anyLr |= row.has("lr");
            lr[i] = row.has("lr") ? Json.number(row.get("lr")) : Double.NaN;
            clipped[i] = row.path("clipped").asBoolean(false);
            skipped[i] = row.path("skipped").asBoolean(false);
            JsonNode ln = row.get("layer_norms");
            if (ln != null && ln.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = ln.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> e = it.next();
                    double[] series = layerMap.computeIfAbsent(e.getKey(), k -> {
                        double[] a = new double[n];
                        java.util.Arrays.fill(a, Double.NaN);
                        return a;
                    });
                    series[i] = Json.number(e.getValue());
                }
            }
        }
        String name = summary != null && summary.hasNonNull("name") ? summary.get("name").asText()
                : dir.toAbsolutePath().normalize().getFileName().toString();
        return new RunSeries(name, summary, steps, loss, grad, after, thr, clipped, skipped,
                List.copyOf(layerMap.keySet()), layerMap.values().toArray(new double[0][]), eval, anyLr ? lr : null);
    }

    private static String oneLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
