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
 * Opens a report in headless Chromium and checks that every chart painted pixels and that the page
 * logged no error. Skipped only when Chromium is not installed (CI installs it).
 */
class ReportRenderTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path tmp;

    /** Writes a run folder with n steps: norms that spike, a threshold, clipped and skipped steps, a NaN. */
    private static Path fakeRun(Path dir, String name, int n, boolean withNaN) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (int s = 1; s <= n; s++) {
            double norm = s % 17 == 0 ? 500.0 : 2.0 + Math.sin(s);
            boolean nan = withNaN && s == n;
            Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("step", s);
            row.put("loss", nan ? Double.NaN : 1.0 / s);
            row.put("grad_norm", nan ? Double.NaN : norm);
            row.put("clipped_norm", Math.min(norm, 1.0));
            row.put("coef", Math.min(1.0, 1.0 / norm));
            row.put("threshold", 1.0);
            row.put("clipped", norm > 1.0);
            row.put("skipped", s % 17 == 0);
            row.put("layer_norms", Map.of("rnn", nan ? Double.POSITIVE_INFINITY : norm, "out", 1e-9 * norm,
                    "embed", norm * s));
            sb.append(Json.line(row)).append('\n');
        }
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString());
        Files.writeString(dir.resolve("summary.json"), Json.pretty(Map.of("name", name, "task", "adding", "clip",
                "global-norm:1.0", "steps", n, "exploding_layers", List.of("embed"), "vanishing_layers", List.of("out"),
                "eval", Map.of("metric", "error_rate", "value", 0.1))));
        return dir;
    }

    @Test
    void chartsRenderInHeadlessChromiumWithoutConsoleErrors() throws Exception {
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
        // loss, gradient norm, and one heat map per run
        assertThat(expected).isEqualTo(4);
        assertThat(charts).as(status).isEqualTo(expected);
        assertThat(status).contains("data-errors=\"\"");
        assertThat(dom).contains("<canvas");
        assertThat(dom).contains("no clipping &lt;/script&gt;&lt;b&gt;");
        for (String line : stderr.lines().toList()) {
            if (line.contains("CONSOLE")) {
                assertThat(line).doesNotContainIgnoringCase("error").doesNotContain("Uncaught");
            }
        }
    }

    private static int attr(String tag, String name) {
        Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(tag);
        assertThat(m.find()).as(name + " in " + tag).isTrue();
        return Integer.parseInt(m.group(1));
    }
}
