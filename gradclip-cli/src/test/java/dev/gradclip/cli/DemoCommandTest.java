package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("training")
class DemoCommandTest {

    @TempDir
    Path tmp;

    @Test
    void demoRunsTheSeedExampleAndBothPanelsOverTheSeedsAndWritesReportAndSummary() throws IOException {
        Path out = tmp.resolve("demo");
        // a quick look: 2 seeds, 3% of the steps (90 RNN steps, 18 MLP steps)
        CliRunner.Result r = CliRunner.run("demo", "--seeds", "1-2", "--steps-scale", "0.03", "--eval-samples", "200",
                "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("1. The seed example").contains(" 10: 0.1638").contains("2. The adding problem")
                .contains("3. Fashion-MNIST").contains("learned").contains("diverged").contains("stalled")
                .contains("In short:").contains("adding: without clipping").contains("fashion-mnist: without clipping")
                .contains("report.html");
        JsonNode s = TrainCommandTest.json(out.resolve("summary.json"));
        assertThat(s.get("panels")).hasSize(2);
        assertThat(s.get("panels").get(0).get("rows")).hasSize(DemoCommand.SEQUENCE.methods().size());
        assertThat(s.get("panels").get(1).get("rows")).hasSize(DemoCommand.REAL_DATA.methods().size());
        int methods = DemoCommand.SEQUENCE.methods().size() + DemoCommand.REAL_DATA.methods().size();
        assertThat(s.get("runs")).hasSize(2 * methods);
        Set<String> outcomes = Set.of("learned", "diverged", "stalled");
        for (JsonNode run : s.get("runs")) {
            assertThat(outcomes).contains(run.get("outcome").asText());
            assertThat(out.resolve(run.get("folder").asText()).resolve("metrics.jsonl")).exists();
        }
        for (JsonNode panel : s.get("panels")) {
            for (JsonNode row : panel.get("rows")) {
                assertThat(row.get("learned").asInt() + row.get("diverged").asInt() + row.get("stalled").asInt())
                        .isEqualTo(2);
            }
        }
        assertThat(s.get("seed_example").get("x_every_10_iterations")).hasSize(11);
        assertThat(out.resolve("report.html")).exists();
    }

    @Test
    void badStepsScaleIsRefusedBeforeAnythingIsWritten() {
        Path out = tmp.resolve("bad");
        CliRunner.Result r = CliRunner.run("demo", "--steps-scale", "0", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--steps-scale");
        assertThat(out).doesNotExist();
    }
}
