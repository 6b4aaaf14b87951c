package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.run.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    @TempDir
    Path tmp;

    static List<JsonNode> metrics(Path dir) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            rows.add(Json.read(line));
        }
        return rows;
    }

    static JsonNode json(Path file) throws IOException {
        return Json.read(Files.readString(file));
    }

    @Test
    void quadraticFollowsTheSeedTrajectoryAndWritesEveryField() throws IOException {
        Path out = tmp.resolve("q");
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.OK);
        assertThat(r.out()).contains("value:1.0").contains("final loss");

        List<JsonNode> rows = metrics(out);
        assertThat(rows).hasSize(100);
        JsonNode first = rows.get(0);
        for (String f : new String[] {"step", "loss", "grad_norm", "clipped_norm", "coef", "threshold", "clipped",
            "skipped", "x", "layer_norms"}) {
            assertThat(first.has(f)).as(f).isTrue();
        }
        // x goes 1.0, 0.9, ..., 0.5 while the gradient 2x is clipped to 1, then x <- 0.8 x
        double[] expected = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
        for (int i = 0; i < expected.length; i++) {
            assertThat(rows.get(i).get("x").asDouble()).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6));
        }
        assertThat(rows.get(0).get("clipped").asBoolean()).isTrue();
        assertThat(rows.get(0).get("grad_norm").asDouble()).isEqualTo(2.0);
        assertThat(rows.get(0).get("threshold").asDouble()).isEqualTo(1.0);
        assertThat(rows.get(5).get("clipped").asBoolean()).isFalse();
        assertThat(rows.get(6).get("x").asDouble() / rows.get(5).get("x").asDouble())
                .isCloseTo(0.8, org.assertj.core.data.Offset.offset(1e-6));

        JsonNode s = json(out.resolve("summary.json"));
        for (String f : new String[] {"task", "clip", "optimizer", "seed", "steps", "final_loss", "eval", "diverged",
            "clipped_steps", "skipped_steps", "wall_seconds"}) {
            assertThat(s.has(f)).as(f).isTrue();
        }
        assertThat(s.get("task").asText()).isEqualTo("quadratic");
        assertThat(s.get("clip").asText()).isEqualTo("value:1.0");
        assertThat(s.get("optimizer").asText()).isEqualTo("sgd:lr=0.1");
        assertThat(s.get("steps").asInt()).isEqualTo(100);
        assertThat(s.get("clipped_steps").asInt()).isEqualTo(5);
        assertThat(s.get("diverged").asBoolean()).isFalse();
        assertThat(s.get("outcome").asText()).isEqualTo("learned");
        assertThat(s.get("eval").get("metric").asText()).isEqualTo("loss");
        assertThat(s.get("eval").get("value").isNumber()).isTrue();
        assertThat(out.resolve("report.html")).exists();
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void sameSeedSameNumbers() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        for (Path p : new Path[] {a, b}) {
            assertThat(CliRunner.run("train", "--task", "quadratic", "--x0", "3", "--clip", "global-norm:0.5",
                    "--steps", "30", "--out", p.toString(), "--no-progress").exit()).isZero();
        }
        assertThat(Files.readString(a.resolve("metrics.jsonl"))).isEqualTo(Files.readString(b.resolve("metrics.jsonl")));
    }

    @Test
    void unclippedLargeStepDivergesAndIsReported() throws IOException {
        Path out = tmp.resolve("d");
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--x0", "1e6", "--clip",
                "none+propagate-nonfinite", "--optimizer", "sgd:lr=1.5", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode s = json(out.resolve("summary.json"));
        // |x| doubles every step: after the 100 default steps the loss is finite but 2^200 times the start's
        assertThat(s.get("outcome").asText()).isEqualTo("diverged");
        assertThat(s.get("outcome_reason").asText()).contains("blew up");
        assertThat(s.get("diverged").asBoolean()).isTrue();
        assertThat(s.get("final_loss").isNull()).isTrue();
        assertThat(s.get("exploding_layers").toString()).contains("x");
        assertThat(s.get("diverged_at_step").isNull()).as("no step was non-finite").isTrue();
        assertThat(metrics(out)).hasSize(100);
    }

    @Test
    void unclippedRunGoesOnUntilTheGradientIsNonFiniteThenExitsThree() throws IOException {
        Path out = tmp.resolve("d3");
        // x reaches float's infinity after about 108 doublings; the default policy stops there with exit code 3
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--x0", "1e6", "--clip", "none",
                "--optimizer", "sgd:lr=1.5", "--steps", "200", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        JsonNode s = json(out.resolve("summary.json"));
        assertThat(s.get("outcome").asText()).isEqualTo("diverged");
        assertThat(s.get("outcome_reason").asText()).startsWith("non-finite gradient at step");
        assertThat(s.get("diverged_at_step").asInt()).isBetween(100, 120);
    }

    @Test
    void clippedLargeStepMovesAtMostLrTimesC() throws IOException {
        Path out = tmp.resolve("c");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--x0", "1e6", "--clip", "value:1.0", "--optimizer",
                "sgd:lr=1.5", "--steps", "20", "--out", out.toString(), "--no-progress").exit()).isZero();
        List<JsonNode> rows = metrics(out);
        double prev = 1e6;
        for (JsonNode row : rows) {
            assertThat(prev - row.get("x").asDouble()).isLessThanOrEqualTo(1.5 * 1.0 + 1e-9 * prev);
            prev = row.get("x").asDouble();
        }
        assertThat(json(out.resolve("summary.json")).get("diverged").asBoolean()).isFalse();
    }

    @Test
    void nonFiniteGradientUnderTheDefaultPolicyExitsThreeNamingStepAndTensor() throws IOException {
        Path out = tmp.resolve("nf");
        // x0 = 1e30: the gradient 2x is finite, x - 1e10*2x overflows float to -inf at step 1, so step 2's gradient is -inf
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--x0", "1e30", "--clip", "none",
                "--optimizer", "sgd:lr=1e10", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(ExitCode.NON_FINITE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("step 2").contains("tensor 'x'").doesNotContain("Exception");
        assertThat(json(out.resolve("summary.json")).get("error").asText()).contains("step 2");
    }

    @Test
    void nonFiniteMetricsAreWrittenAsNull() throws IOException {
        Path out = tmp.resolve("null");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--x0", "1e30", "--clip", "none+propagate-nonfinite",
                "--optimizer", "sgd:lr=1e10", "--out", out.toString(), "--no-progress").exit()).isZero();
        List<JsonNode> rows = metrics(out);
        JsonNode last = rows.get(rows.size() - 1);
        assertThat(last.get("grad_norm").isNull()).isTrue();
        assertThat(Files.readString(out.resolve("metrics.jsonl"))).doesNotContain("NaN").doesNotContain("Infinity");
    }

    @Test
    void skipPolicyLeavesTheParameterAndCountsSkippedSteps() throws IOException {
        Path out = tmp.resolve("skip");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--x0", "1e30", "--clip", "value:1+skip-nonfinite",
                "--optimizer", "sgd:lr=1e10", "--steps", "5", "--out", out.toString(), "--no-progress").exit()).isZero();
        JsonNode s = json(out.resolve("summary.json"));
        // step 1 moves x by at most 1e10 (finite); the gradients stay finite, nothing is skipped
        assertThat(s.get("skipped_steps").asInt()).isZero();
        assertThat(s.get("clipped_steps").asInt()).isEqualTo(5);
    }
}
