package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gradclip.checkpoint.Checkpoint;
import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.RunControl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints, {@code --resume} and fault injection through the command: a run killed with SIGKILL
 * and resumed ends with the same files, bit for bit, as a run never interrupted.
 */
class ResumeTest {

    @TempDir
    Path tmp;

    /** A quadratic run with stateful pieces (ZClip and spike-guard statistics, Adam's moments) and injected faults. */
    private static List<String> quadratic(Path out, int steps, int every) {
        return new ArrayList<>(List.of("train", "--task", "quadratic", "--x0", "1e6", "--steps", Integer.toString(steps),
                "--clip", "zclip+spike-guard+skip-nonfinite", "--optimizer", "adam:lr=0.5", "--seed", "5",
                "--checkpoint-every", Integer.toString(every), "--inject-nonfinite", "0.01",
                "--inject-spike", "0.02,100", "--no-progress", "--out", out.toString()));
    }

    private static CliRunner.Result run(List<String> args) {
        return CliRunner.run(args.toArray(new String[0]));
    }

    /** The summary without its wall time, the one field that may differ between identical runs. */
    private static JsonNode summary(Path dir) throws IOException {
        ObjectNode s = (ObjectNode) Json.read(Files.readString(dir.resolve("summary.json")));
        s.remove("wall_seconds");
        return s;
    }

    private static Checkpoint newest(Path dir) throws IOException {
        return CheckpointStore.in(dir.resolve(RunControl.CHECKPOINTS)).loadLatest().orElseThrow().checkpoint();
    }

    private static void assertSameRun(Path expected, Path actual) throws IOException {
        assertThat(Files.readAllBytes(actual.resolve("metrics.jsonl")))
                .as("metrics.jsonl").isEqualTo(Files.readAllBytes(expected.resolve("metrics.jsonl")));
        Checkpoint e = newest(expected);
        Checkpoint a = newest(actual);
        assertThat(a.step()).isEqualTo(e.step());
        // the task's state: the parameter x, the optimizer moments and step count, the clipper statistics
        assertThat(a.section(Checkpoint.TRAINING_STATE)).as("final parameters and state")
                .isEqualTo(e.section(Checkpoint.TRAINING_STATE));
        assertThat(summary(actual)).isEqualTo(summary(expected));
    }

    private static long lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (var s = Files.lines(file)) {
            return s.count();
        }
    }

    @Test
    void aRunKilledWithSigkillAndResumedEqualsAnUninterruptedOneBitForBit() throws Exception {
        int steps = 40_000;
        Path reference = tmp.resolve("reference");
        CliRunner.Result r = run(quadratic(reference, steps, 997));
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.OK);
        JsonNode faults = summary(reference).get("faults");
        assertThat(faults.get("non_finite").get("injected").asLong()).isPositive();
        assertThat(faults.get("non_finite").get("skipped").asLong())
                .isEqualTo(faults.get("non_finite").get("injected").asLong());
        assertThat(faults.get("spikes").get("injected").asLong()).isPositive();
        assertThat(lines(reference.resolve("metrics.jsonl"))).isEqualTo(steps);

        Path killed = tmp.resolve("killed");
        Random random = new Random();
        long killedAfterRows = 0;
        StringBuilder logs = new StringBuilder();
        for (int attempt = 0; attempt < 5 && killedAfterRows == 0; attempt++) {
            Path log = tmp.resolve("child-" + attempt + ".log");
            Process child = child(quadratic(killed, steps, 997), log);
            // kill at a random moment after the first checkpoint: SIGKILL gives the run no chance to clean up
            CheckpointStore store = CheckpointStore.in(killed.resolve(RunControl.CHECKPOINTS));
            while (child.isAlive() && store.files().isEmpty()) {
                Thread.sleep(2);
            }
            Thread.sleep(random.nextInt(400));
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            logs.append(Files.readString(log));
            if (child.exitValue() != 0 && !store.files().isEmpty()) {
                killedAfterRows = lines(killed.resolve("metrics.jsonl"));
            }
        }
        assertThat(killedAfterRows).as("the child was killed before it finished; its output: %s", logs)
                .isPositive().isLessThan(steps);

        CliRunner.Result resumed = CliRunner.run("train", "--resume", killed.toString(), "--no-progress");

        assertThat(resumed.exit()).as(resumed.err()).isEqualTo(ExitCode.OK);
        assertThat(resumed.err()).contains("resuming " + killed + " after step ");
        assertSameRun(reference, killed);
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToThePreviousOneAndStillEndsIdentically() throws IOException {
        Path reference = tmp.resolve("reference");
        assertThat(run(quadratic(reference, 400, 50)).exit()).isEqualTo(ExitCode.OK);
        Path run = tmp.resolve("run");
        assertThat(run(quadratic(run, 400, 50)).exit()).isEqualTo(ExitCode.OK);
        CheckpointStore store = CheckpointStore.in(run.resolve(RunControl.CHECKPOINTS));
        List<Path> files = store.files();
        assertThat(files).hasSize(2);
        Path newest = files.get(0);
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(newest, bytes);

        CliRunner.Result resumed = CliRunner.run("train", "--resume", run.toString(), "--no-progress");

        assertThat(resumed.exit()).as(resumed.err()).isEqualTo(ExitCode.OK);
        assertThat(resumed.err()).contains("warning: checkpoint " + newest + " is unusable: checksum mismatch")
                .contains("using " + files.get(1).getFileName() + " (step 350) instead")
                .contains("after step 350");
        assertSameRun(reference, run);
    }

    @Test
    void underThrowTheRunStopsWithExitCode3NamingStepAndTensorAfterAFinalCheckpoint() throws IOException {
        Path out = tmp.resolve("throw");
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--steps", "500", "--checkpoint-every",
                "1000", "--inject-nonfinite", "0.05", "--no-progress", "--out", out.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.NON_FINITE);
        String message = r.err().lines().filter(l -> l.contains("non-finite gradient")).findFirst().orElseThrow();
        assertThat(message).containsPattern("step \\d+: non-finite gradient in tensor 'x'");
        long step = Long.parseLong(message.replaceAll(".*step (\\d+):.*", "$1"));
        Checkpoint last = newest(out);
        assertThat(last.step()).isEqualTo(step - 1);
        assertThat(lines(out.resolve("metrics.jsonl"))).isEqualTo(step - 1);
        JsonNode s = summary(out);
        assertThat(s.get("error").asText()).contains("step " + step);
        assertThat(s.get("faults").get("non_finite").get("stopped").asLong()).isEqualTo(1);
    }

    @Test
    void withSkipTheInjectedRunEndsAsWellAsACleanOne() throws IOException {
        Path clean = tmp.resolve("clean");
        Path faulty = tmp.resolve("faulty");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--clip", "value:1.0+skip-nonfinite", "--no-progress",
                "--out", clean.toString()).exit()).isEqualTo(ExitCode.OK);
        CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--clip",
                "value:1.0+spike-guard+skip-nonfinite", "--inject-nonfinite", "0.1", "--inject-spike", "0.1,1000",
                "--no-progress", "--out", faulty.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.OK);

        JsonNode s = summary(faulty);
        assertThat(s.get("eval").get("success").asBoolean()).isTrue();
        assertThat(summary(clean).get("eval").get("success").asBoolean()).isTrue();
        JsonNode nf = s.get("faults").get("non_finite");
        assertThat(nf.get("injected").asLong()).isPositive();
        assertThat(nf.get("skipped").asLong()).isEqualTo(nf.get("injected").asLong());
        JsonNode spikes = s.get("faults").get("spikes");
        assertThat(spikes.get("injected").asLong()).isPositive();
        // the spike guard skips a x1000 spike (once it has a history); a skipped step never moves x
        assertThat(spikes.get("skipped").asLong()).isPositive();
        assertThat(s.get("skipped_steps").asLong()).isGreaterThanOrEqualTo(nf.get("injected").asLong());
        for (JsonNode row : TrainCommandTest.metrics(faulty)) {
            assertThat(row.get("x").isNumber()).as("x finite at step %s", row.get("step")).isTrue();
        }
    }

    @Test
    void badResumeAndInjectionInputsExitWithCode2AndOneLine() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path started = tmp.resolve("started");
        assertThat(run(quadratic(started, 100, 30)).exit()).isEqualTo(ExitCode.OK);
        String[][] cases = {
            {"--resume", empty.toString(), "| has no checkpoints folder"},
            {"--resume", started.toString(), "--steps", "5", "| do not give --steps"},
            {"--task", "quadratic", "--checkpoint-every", "0", "| --checkpoint-every must be a positive whole number"},
            {"--task", "quadratic", "--inject-nonfinite", "1.5", "| --inject-nonfinite must be in [0, 1], got 1.5"},
            {"--task", "quadratic", "--inject-spike", "0.1", "| --inject-spike takes RATE,SCALE"},
            {"--task", "quadratic", "--inject-spike", "0.1,-3", "| --inject-spike scale must be finite and > 0"},
            {"--task", "quadratic", "--inject-spike", "x,3", "| --inject-spike rate must be a number, got 'x'"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("train", "--no-progress"));
            args.addAll(List.of(c).subList(0, c.length - 1));
            if (!args.contains("--resume")) {
                args.addAll(List.of("--out", tmp.resolve("x").toString()));
            }
            CliRunner.Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(ExitCode.USAGE);
            assertThat(r.err().strip()).doesNotContain("\n").contains(c[c.length - 1].substring(2));
        }
        Files.write(started.resolve(RunControl.CHECKPOINTS).resolve("checkpoint-00000100.gcp"), new byte[0]);
        Files.write(started.resolve(RunControl.CHECKPOINTS).resolve("checkpoint-00000090.gcp"), new byte[] {1});
        CliRunner.Result r = CliRunner.run("train", "--resume", started.toString());
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("no usable checkpoint in").contains("checkpoint-00000100.gcp is unusable: the file"
                + " is empty").contains("checkpoint-00000090.gcp is unusable: not a gradclip checkpoint");
    }

    /** Starts {@code gradclip} as a child JVM on this test's class path. */
    private static Process child(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
                .start();
    }
}
