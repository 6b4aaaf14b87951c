package dev.gradclip.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gradclip.cli.run.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens a report in headless Chromium and checks that every chart painted pixels, that the marks of
 * known skipped, clipped, non-finite and off-scale steps were drawn (counted from the rendered charts'
 * elements and pixels, which the page records on each chart), that every legend shows every series
 * without paging, and that the page logged no error. Skipped only when Chromium is not installed (CI
 * installs it).
 */
class ReportRenderTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path tmp;

    /**
     * Writes a run folder with n steps: a threshold of 1; every step but each third clipped; each 17th
     * step skipped (its norm 500); one spike of 4.8e14 at step 150; a NaN at the last step when asked;
     * the held-out metric on ten steps.
     */
    private static Path fakeRun(Path dir, String name, int n, boolean withNaN) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (int s = 1; s <= n; s++) {
            double norm = s == 150 ? 4.8e14 : s % 17 == 0 ? 500.0 : 2.0 + Math.sin(s);
            boolean nan = withNaN && s == n;
            boolean clipped = s % 3 != 0;
            Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("step", s);
            row.put("loss", nan ? Double.NaN : 1.0 / s);
            row.put("grad_norm", nan ? Double.NaN : norm);
            row.put("clipped_norm", clipped ? 1.0 : norm);
            row.put("coef", Math.min(1.0, 1.0 / norm));
            row.put("threshold", 1.0);
            row.put("clipped", clipped);
            row.put("skipped", s % 17 == 0);
            row.put("layer_norms", Map.of("rnn.weight_hh", nan ? Double.POSITIVE_INFINITY : norm,
                    "output.weight", 1e-9 * norm, "embedding.weight", norm * s));
            if (s % (n / 10) == 0) {
                row.put("eval", 1.0 / Math.sqrt(s));
            }
            sb.append(Json.line(row)).append('\n');
        }
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString());
        Files.writeString(dir.resolve("summary.json"), Json.pretty(Map.of("name", name, "task", "adding", "clip",
                "global-norm:1.0", "steps", n, "outcome", withNaN ? "diverged" : "learned",
                "exploding_layers", List.of("embedding.weight"), "vanishing_layers", List.of("output.weight"),
                "eval", Map.of("metric", "error_rate", "value", 0.1))));
        return dir;
    }

    @Test
    void chartsRenderInHeadlessChromiumWithTheirMarksAndWithoutConsoleErrors() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed");
        Path root = tmp.resolve("demo");
        fakeRun(root.resolve("a"), "no clipping </script><b>", 300, true);
        fakeRun(root.resolve("b"), "global-norm:1.0", 5000, false);
        Path report = HtmlReport.rebuild(root, "render test");
        String html = Files.readString(report);
        assertThat(html).doesNotContain("<script src").doesNotContain("<link ").doesNotContain("https://cdn");

        Path profile = Files.createDirectory(tmp.resolve("profile"));
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--window-size=1200,2000",
                "--dump-dom", report.toUri().toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(tmp.resolve("chromium.err").toFile());
        Process p = pb.start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String stderr = Files.readString(tmp.resolve("chromium.err"));

        Matcher m = Pattern.compile("<div id=\"render-status\"[^>]*>").matcher(dom);
        assertThat(m.find()).as("render status in the DOM; chromium said: %s", stderr).isTrue();
        String status = m.group();
        int expected = attr(status, "data-expected");
        int charts = attr(status, "data-charts");
        // across seeds: loss, gradient norm and eval bands; per run: loss, gradient norm and a heat map
        assertThat(expected).isEqualTo(3 + 2 * 3);
        assertThat(charts).as(status).isEqualTo(expected);
        assertThat(status).contains("data-errors=\"\"");
        assertThat(dom).contains("<canvas");
        assertThat(dom).contains("no clipping &lt;/script&gt;&lt;b&gt;");
        assertThat(dom).contains("href=\"#run-1\"").contains("id=\"run-1\"").contains("href=\"#run-2\"");

        // the gradient-norm chart of each run: the marks drawn are the ones the metrics hold
        List<String> norms = tags(dom, "data-role=\"norm\"");
        assertThat(norms).hasSize(2);
        String a = norms.get(0);
        assertThat(attr(a, "data-skipped-expected")).isEqualTo(300 / 17);
        assertThat(attr(a, "data-skipped-drawn")).isEqualTo(300 / 17);
        assertThat(attr(a, "data-skipped-pixels")).as("red pixels of the skipped marks").isGreaterThan(17 * 10);
        assertThat(attr(a, "data-nonfinite-drawn")).isEqualTo(1);
        assertThat(attr(a, "data-clipped-total")).isEqualTo(200);
        assertThat(attr(a, "data-clipshare-drawn")).isPositive();
        // the 4.8e14 spike does not set the axis: it is drawn at the edge, labelled
        assertThat(attr(a, "data-offscale-drawn")).isGreaterThanOrEqualTo(1);
        assertThat(number(a, "data-axis-max")).isLessThan(1e6);
        String b = norms.get(1);
        assertThat(attr(b, "data-skipped-drawn")).isEqualTo(5000 / 17);
        assertThat(attr(b, "data-clipped-total")).isEqualTo(5000 - 5000 / 3);
        assertThat(attr(b, "data-nonfinite-drawn")).isZero();
        assertThat(a).containsPattern("data-offscale-labels=\"[^\"]*4\\.80e\\+14");

        // every legend is plain (no paging), shows every series, fits the chart and clears the plot
        List<String> legends = tags(dom, "data-legend-type=");
        assertThat(legends).hasSize(3 + 2 * 2);
        for (String t : legends) {
            assertThat(t).contains("data-legend-type=\"plain\"").contains("data-legend-clear=\"1\"")
                    .contains("data-legend-fits=\"1\"");
            assertThat(attr(t, "data-legend-items")).as(t).isEqualTo(attr(t, "data-legend-names")).isPositive();
        }

        // the layer view names the layers by the summary's rule, on the page's one scale
        assertThat(dom).contains("exploding: rnn.weight_hh").contains("vanishing: output.weight");
        for (String line : stderr.lines().toList()) {
            if (line.contains("CONSOLE")) {
                assertThat(line).doesNotContainIgnoringCase("error").doesNotContain("Uncaught");
            }
        }
    }

    /** The opening tags of the elements that contain the given text. */
    private static List<String> tags(String dom, String inTag) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("<div [^>]*" + Pattern.quote(inTag) + "[^>]*>").matcher(dom);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static double number(String tag, String name) {
        Matcher m = Pattern.compile(name + "=\"([-0-9.eE+]+)\"").matcher(tag);
        assertThat(m.find()).as(name + " in " + tag).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static int attr(String tag, String name) {
        Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(tag);
        assertThat(m.find()).as(name + " in " + tag).isTrue();
        return Integer.parseInt(m.group(1));
    }
}
