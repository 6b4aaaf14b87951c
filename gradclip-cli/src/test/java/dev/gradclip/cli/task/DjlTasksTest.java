package dev.gradclip.cli.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;


import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.run.Json;
import dev.gradclip.lab.text.TextCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Short runs of the DJL tasks through the command (a few steps each). */
@Tag("training")
class DjlTasksTest {

    @TempDir
    Path tmp;

    private static JsonNode run(Path out, String... args) throws IOException {
        java.io.StringWriter o = new java.io.StringWriter();
        java.io.StringWriter e = new java.io.StringWriter();
        int exit = dev.gradclip.cli.GradclipCli.create(new java.io.PrintWriter(o, true), new java.io.PrintWriter(e, true))
                .execute(args);
        assertThat(exit).as(e.toString()).isZero();
        return Json.read(Files.readString(out.resolve("summary.json")));
    }

    @Test
    void fashionMnistTrainsAndReportsTestAccuracy() throws IOException {
        assumeTrue(Files.isDirectory(FashionMnistTask.DEFAULT_DIR), "dataset-fashion-mnist not installed");
        Path out = tmp.resolve("fm");
        JsonNode s = run(out, "train", "--task", "fashion-mnist", "--steps", "30", "--hidden", "32",
                "--eval-samples", "500", "--out", out.toString(), "--no-progress");
        assertThat(s.get("eval").get("metric").asText()).isEqualTo("test_accuracy");
        // 30 steps of SGD lift a 10-class model well above chance (0.1)
        assertThat(s.get("eval").get("value").asDouble()).isGreaterThan(0.3);
        assertThat(s.get("layers")).extracting(JsonNode::asText).containsExactly("linear1.weight", "linear1.bias",
                "linear2.weight", "linear2.bias", "output.weight", "output.bias");
    }

    /**
     * DJL 0.36's PyTorch engine throws "Not implemented" for DJL's Nag and RmsProp updates; the
     * command trains with gradclip-djl's NDArray implementations instead.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nesterov:lr=0.01,beta=0.9", "rmsprop:lr=0.001", "rmsprop:lr=0.001,centered",
        "rmsprop:lr=0.001,momentum=0.9", "rmsprop:lr=0.001,alpha=0.9,eps=1e-6,centered,momentum=0.5"})
    void theAddingProblemTrainsWithNesterovAndRmsProp(String optimizer) throws IOException {
        Path out = tmp.resolve("opt");
        JsonNode s = run(out, "train", "--task", "adding", "--optimizer", optimizer, "--steps", "6", "--length", "10",
                "--hidden", "8", "--batch", "4", "--eval-samples", "20", "--out", out.toString(), "--no-progress");
        assertThat(s.get("optimizer").asText()).isEqualTo(optimizer);
        assertThat(s.get("steps").asInt()).isEqualTo(6);
        assertThat(s.get("diverged").asBoolean()).isFalse();
        assertThat(s.get("final_loss").isNumber()).as("final_loss %s", s.get("final_loss")).isTrue();
        List<String> rows = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertThat(rows).hasSize(6);
        for (String row : rows) {
            // a non-finite loss is written as null
            assertThat(Json.read(row).get("loss").isNumber()).as(row).isTrue();
        }
    }

    @Test
    void charLmTrainsAndReportsBitsPerCharacter() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "the quick brown fox jumps over the lazy dog. ".repeat(80));
        Path out = tmp.resolve("cl");
        JsonNode s = run(out, "train", "--task", "char-lm", "--text", text.toString(), "--steps", "15", "--length", "16",
                "--hidden", "16", "--batch", "8", "--eval-samples", "8", "--out", out.toString(), "--no-progress");
        assertThat(s.get("eval").get("metric").asText()).isEqualTo("bits_per_char");
        double bits = s.get("eval").get("value").asDouble();
        assertThat(bits).isPositive().isLessThan(Math.log(TextCorpus.VOCABULARY) / Math.log(2) + 1);
    }
}
