package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {

    @TempDir
    Path tmp;

    @Test
    void demoRunsTheSeedExampleAndThreeRnnRunsAndWritesReportAndSummary() throws IOException {
        // the adding task comes from gradclip-djl's sequence workloads
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.gradclip.cli.task.Tasks.names().contains(DemoCommand.TASK));
        Path out = tmp.resolve("demo");
        CliRunner.Result r = CliRunner.run("demo", "--steps", "25", "--eval-samples", "100", "--out", out.toString(),
                "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("1. The seed example").contains(" 10: 0.1638").contains("2. The adding problem")
                .contains("final loss").contains("diverged").contains("clipped steps").contains("skipped steps")
                .contains("wall s").contains("report.html");
        JsonNode s = TrainCommandTest.json(out.resolve("summary.json"));
        assertThat(s.get("runs")).hasSize(3);
        assertThat(s.get("runs").get(0).get("clip").asText()).isEqualTo("none+propagate-nonfinite");
        assertThat(s.get("runs").get(1).get("clip").asText()).isEqualTo("global-norm:1.0");
        for (JsonNode run : s.get("runs")) {
            assertThat(run.has("final_loss")).isTrue();
            assertThat(run.has("diverged")).isTrue();
            assertThat(out.resolve(run.get("folder").asText()).resolve("metrics.jsonl")).exists();
        }
        // the fixed threshold clips the RNN's large early gradients (the first norm is about 1e4)
        assertThat(s.get("runs").get(1).get("clipped_steps").asInt()).isPositive();
        assertThat(s.get("seed_example").get("x_every_10_iterations")).hasSize(11);
        assertThat(out.resolve("report.html")).exists();
    }
}
