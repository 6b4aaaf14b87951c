package dev.gradclip.cli.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.cli.run.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Short runs of the DJL tasks through the command (a few steps each). */
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
        assertThat(s.get("layers")).hasSize(3);
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
