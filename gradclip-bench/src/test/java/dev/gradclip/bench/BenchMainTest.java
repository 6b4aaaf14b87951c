package dev.gradclip.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench command's output shape, on tiny data without forks ({@code --smoke}). No timing is
 * asserted: the figures of a shared machine are not a test.
 */
class BenchMainTest {

    @Test
    void jsonHasBandwidthsAndOneWellFormedRowPerBenchmark(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path file = dir.resolve("sub/bench.json");
        int code = BenchMain.run(new String[] {"bench", "--smoke", "--json", "--out", file.toString()},
                new PrintWriter(out), new PrintWriter(err));

        assertThat(code).as(err.toString()).isZero();
        JsonNode doc = new ObjectMapper().readTree(out.toString());
        assertThat(new ObjectMapper().readTree(Files.readString(file))).isEqualTo(doc);
        assertThat(doc.get("bandwidth_gbps").isNumber()).isTrue();
        assertThat(doc.get("bandwidth_gbps").asDouble()).isPositive();
        assertThat(doc.get("copy_gbps").asDouble()).isPositive();
        JsonNode results = doc.get("results");
        assertThat(results.isArray()).isTrue();
        List<String> names = new ArrayList<>();
        for (JsonNode r : results) {
            List<String> fields = new ArrayList<>();
            r.fieldNames().forEachRemaining(fields::add);
            assertThat(fields).containsExactly("name", "floats", "tensors", "kernel", "gbps", "fraction_of_bandwidth");
            assertThat(r.get("floats").asLong()).isPositive();
            assertThat(r.get("tensors").asInt()).isIn(1, 200);
            assertThat(r.get("kernel").asText()).isIn("simd", "scalar", "libtorch");
            assertThat(r.get("gbps").asDouble()).isPositive();
            assertThat(r.get("fraction_of_bandwidth").asDouble())
                    .isCloseTo(r.get("gbps").asDouble() / doc.get("bandwidth_gbps").asDouble(),
                            org.assertj.core.data.Offset.offset(1e-3));
            names.add(r.get("name").asText());
        }
        assertThat(names).contains("global-norm-clip", "global-norm-under-threshold", "value-clip", "agc", "read");
        JsonNode paired = doc.get("paired");
        assertThat(paired.size()).isPositive();
        for (JsonNode p : paired) {
            assertThat(p.get("clip_fraction_of_read").asDouble())
                    .isCloseTo(3 * p.get("read_ms").asDouble() / p.get("clip_ms").asDouble(),
                            org.assertj.core.data.Offset.offset(1e-2));
            assertThat(p.get("under_threshold_read_passes").asDouble()).isPositive();
        }
        JsonNode fused = doc.get("fused_step");
        assertThat(fused.size()).isEqualTo(2);
        for (JsonNode f : fused) {
            assertThat(f.get("optimizer").asText()).isIn("adam", "sgd");
            assertThat(f.get("step_best_ms").asDouble()).isPositive();
            assertThat(f.get("fused_ratio_median").asDouble()).isPositive()
                    .isBetween(f.get("fused_ratio_q1").asDouble(), f.get("fused_ratio_q3").asDouble());
            assertThat(f.get("unfused_ratio_median").asDouble()).isPositive();
            assertThat(f.get("fused_bytes_ratio").asDouble()).isLessThan(f.get("unfused_bytes_ratio").asDouble());
        }
        assertThat(err.toString()).contains("streaming read").contains("global-norm-clip").contains("Paired")
                .contains("fused into the update");
    }

    @Test
    void unknownOptionIsAUsageError() {
        StringWriter err = new StringWriter();
        int code = BenchMain.run(new String[] {"--no-such-option"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--no-such-option");
        // one line, not picocli's usage text
        assertThat(err.toString().strip().lines()).hasSize(1);
        StringWriter near = new StringWriter();
        assertThat(BenchMain.run(new String[] {"--quik"}, new PrintWriter(new StringWriter()), new PrintWriter(near)))
                .isEqualTo(2);
        assertThat(near.toString().strip().lines()).hasSize(1);
        assertThat(near.toString()).contains("unknown option '--quik'").contains("did you mean '--quick'?");
        StringWriter steps = new StringWriter();
        BenchMain.run(new String[] {"--steps", "x"}, new PrintWriter(new StringWriter()), new PrintWriter(steps));
        assertThat(steps.toString().strip()).contains("--steps must be a whole number, got 'x'").doesNotContain("\n");
    }

    @Test
    void djlPairedMeasurementPrintsBestAndMedianOfFourTimings() throws Exception {
        java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            DjlPairedMain.main(new String[] {String.valueOf(8 * 1024), "2", "3"});
        } finally {
            System.setOut(old);
        }
        String[] f = buffer.toString(java.nio.charset.StandardCharsets.UTF_8).trim().split("\\s+");
        assertThat(f).hasSize(8);
        for (int k = 0; k < 4; k++) {
            double best = Double.parseDouble(f[2 * k]);
            double median = Double.parseDouble(f[2 * k + 1]);
            assertThat(best).isPositive().isLessThanOrEqualTo(median);
        }
    }
}
