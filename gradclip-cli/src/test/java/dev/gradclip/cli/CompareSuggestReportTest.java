package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareSuggestReportTest {

    @TempDir
    Path tmp;

    @Test
    void compareRunsTheGridAndSummarisesEachClipSpec() throws IOException {
        Path out = tmp.resolve("cmp");
        CliRunner.Result r = CliRunner.run("compare", "--task", "quadratic", "--x0", "1e6", "--optimizer",
                "sgd:lr=1.5", "--clip", "none+propagate-nonfinite", "--clip", "value:1.0", "--seeds", "1-3",
                "--steps", "40", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("none+propagate-nonfinite").contains("value:1.0").contains("learned")
                .contains("eval median [min, max]").contains("Without clipping: learned 0/3, diverged 3/3");

        JsonNode s = TrainCommandTest.json(out.resolve("summary.json"));
        assertThat(s.get("rows")).hasSize(2);
        JsonNode none = s.get("rows").get(0);
        assertThat(none.get("clip").asText()).isEqualTo("none+propagate-nonfinite");
        assertThat(none.get("runs").asInt()).isEqualTo(3);
        // |x| doubles every step: after 40 steps the loss is 2^80 times the start's, finite but blown up
        assertThat(none.get("diverged").asInt()).isEqualTo(3);
        assertThat(none.get("learned").asInt()).isZero();
        assertThat(none.get("eval_median").isNull()).as("diverged runs enter no median").isTrue();
        assertThat(none.get("final_loss_median").isNull()).isTrue();
        JsonNode clipped = s.get("rows").get(1);
        // clipped, x moves by lr * c = 1.5 per step: finite, far from the minimum
        assertThat(clipped.get("diverged").asInt()).isZero();
        assertThat(clipped.get("stalled").asInt()).isEqualTo(3);
        assertThat(clipped.get("eval_min").asDouble()).isEqualTo(clipped.get("eval_max").asDouble()); // quadratic ignores the seed
        assertThat(s.get("verdict").asText()).contains("No spec learned");
        for (JsonNode run : s.get("runs")) {
            assertThat(run.get("outcome").asText()).isEqualTo(run.get("clip").asText().startsWith("none")
                    ? "diverged" : "stalled");
        }
        assertThat(s.get("runs")).hasSize(6);
        assertThat(out.resolve("value_1.0/seed-2/metrics.jsonl")).exists();
        assertThat(Files.readString(out.resolve("report.html"))).contains("none+propagate-nonfinite seed 3");
    }

    @Test
    void suggestRecommendsTheTenthPercentileWithItsReason() throws IOException {
        Path out = tmp.resolve("sug");
        CliRunner.Result r = CliRunner.run("suggest", "--task", "quadratic", "--x0", "10", "--probe-steps", "20",
                "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("p50").contains("histogram").contains("#").contains("recommended threshold")
                .contains("reason:");
        JsonNode s = TrainCommandTest.json(out.resolve("suggestion.json"));
        // unclipped sgd lr=0.1 from x0 = 10: the norms are 20 * 0.8^k, k = 0..19; numpy's p10 interpolates
        double[] norms = new double[20];
        for (int k = 0; k < 20; k++) {
            norms[k] = 20 * Math.pow(0.8, k);
        }
        java.util.Arrays.sort(norms);
        double h = 19 * 0.10;
        double p10 = norms[1] + (h - 1) * (norms[2] - norms[1]);
        assertThat(s.get("recommended_threshold").asDouble()).isCloseTo(p10, org.assertj.core.data.Percentage.withPercentage(0.5));
        assertThat(s.get("percentiles").get("p50").asDouble()).isPositive();
        assertThat(s.get("percentiles").has("p90")).isTrue();
        assertThat(s.get("reason").asText()).contains("10th percentile");
    }

    @Test
    void reportRebuildsFromTheMetricsFiles() throws IOException {
        Path out = tmp.resolve("run");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--steps", "10", "--out", out.toString(),
                "--no-progress").exit()).isZero();
        Files.delete(out.resolve("report.html"));
        CliRunner.Result r = CliRunner.run("report", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains("gradclip train: quadratic with value:1.0").doesNotContain("cdn")
                .doesNotContain("<script src");
    }
}
