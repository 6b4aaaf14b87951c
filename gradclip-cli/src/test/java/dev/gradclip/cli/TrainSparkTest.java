package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.run.RunControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --spark local[2]}: Fashion-MNIST trained data-parallel on two partitions writes the
 * files a local run writes, with the same numbers within float summation order, and resumes from its
 * checkpoints as a run never interrupted.
 */
class TrainSparkTest {

    @TempDir
    Path tmp;

    static final String[] RUN = {"--task", "fashion-mnist", "--steps", "20", "--batch", "32", "--hidden", "32",
        "--eval-samples", "500", "--clip", "global-norm:1.0", "--optimizer", "sgd:lr=0.5", "--no-progress"};

    static String[] args(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("train"));
        a.addAll(List.of(RUN));
        a.addAll(List.of("--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void trainsOnSparkAsItTrainsLocallyAndWritesTheSameFiles() throws IOException {
        Path local = tmp.resolve("local");
        Path spark = tmp.resolve("spark");
        CliRunner.Result l = CliRunner.run(args(local));
        assertThat(l.exit()).as(l.err()).isEqualTo(ExitCode.OK);
        CliRunner.Result s = CliRunner.run(args(spark, "--spark", "local[2]", "--checkpoint-every", "6"));
        assertThat(s.exit()).as(s.err()).isEqualTo(ExitCode.OK);
        for (String f : new String[] {"metrics.jsonl", "summary.json", "report.html"}) {
            assertThat(spark.resolve(f)).isRegularFile();
        }
        List<JsonNode> a = TrainCommandTest.metrics(local);
        List<JsonNode> b = TrainCommandTest.metrics(spark);
        assertThat(b).hasSize(a.size());
        int clipped = 0;
        for (int i = 0; i < a.size(); i++) {
            // same batches, same start: only the gradient's float summation order differs
            assertThat(b.get(i).get("loss").asDouble()).as("loss at step %d", i + 1)
                    .isCloseTo(a.get(i).get("loss").asDouble(), org.assertj.core.data.Percentage.withPercentage(1e-3));
            assertThat(b.get(i).get("grad_norm").asDouble()).as("grad_norm at step %d", i + 1)
                    .isCloseTo(a.get(i).get("grad_norm").asDouble(), org.assertj.core.data.Percentage.withPercentage(1e-3));
            assertThat(b.get(i).get("clipped").asBoolean()).isEqualTo(a.get(i).get("clipped").asBoolean());
            clipped += a.get(i).get("clipped").asBoolean() ? 1 : 0;
        }
        assertThat(clipped).as("steps clipped").isPositive();
        JsonNode summary = TrainCommandTest.json(spark.resolve("summary.json"));
        assertThat(summary.get("steps").asInt()).isEqualTo(20);
        assertThat(Files.readString(spark.resolve("report.html"))).contains("fashion-mnist");

        // the driver dies after a checkpoint: a copy of the run rewound to its previous checkpoint
        // resumes on a new Spark context and ends as the run never interrupted, bit for bit
        Path rewound = tmp.resolve("rewound");
        try (Stream<Path> files = Files.walk(spark)) {
            for (Path f : files.toList()) {
                Files.copy(f, rewound.resolve(spark.relativize(f).toString()));
            }
        }
        CheckpointStore store = CheckpointStore.in(rewound.resolve(RunControl.CHECKPOINTS));
        List<Path> checkpoints = store.files();
        Files.delete(checkpoints.get(checkpoints.size() - 1));
        long after = store.loadLatest().orElseThrow().checkpoint().step();
        CliRunner.Result r = CliRunner.run("train", "--resume", rewound.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.OK);
        assertThat(r.err()).contains("after step " + after);
        assertThat(Files.readAllBytes(rewound.resolve("metrics.jsonl")))
                .isEqualTo(Files.readAllBytes(spark.resolve("metrics.jsonl")));
    }

    @Test
    void aTaskThatCannotTrainOnSparkIsAUsageErrorBeforeSparkStarts() {
        CliRunner.Result r = CliRunner.run("train", "--task", "adding", "--spark", "local[2]", "--out",
                tmp.resolve("a").toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("--spark").contains("fashion-mnist");
    }
}
