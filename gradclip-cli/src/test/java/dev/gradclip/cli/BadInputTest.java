package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BadInputTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "train --task nope | unknown task 'nope'",
        "train --task quadratic --clip bogus | unknown clip spec 'bogus'",
        "train --task quadratic --clip value:0 | must be finite and positive, got 0",
        "train --task quadratic --clip global-norm:-2 | must be finite and positive, got -2",
        "train --task quadratic --optimizer lbfgs | unknown optimizer spec 'lbfgs'",
        "train --task quadratic --frobnicate | unknown option '--frobnicate'",
        "train --task quadratic --seeed 3 | unknown option '--seeed'; did you mean '--seed'?",
        "train --task quadratic --seed x | --seed must be a whole number, got 'x'",
        "train --task quadratic --checkpoint-every 2.5 | --checkpoint-every must be a whole number, got '2.5'",
        "train --task quadratic --clip global-norm=1.0 | did you mean 'global-norm:1.0'?",
        "train --task quadratic --clip globl-norm:1 | did you mean 'global-norm:1'?",
        "train --task quadratc | unknown task 'quadratc'; did you mean 'quadratic'?",
        "train --task quadratic --optimizer adma:lr=0.1 | did you mean 'adam'?",
        "train --task quadratic --steps 0 | --steps must be a positive whole number",
        "train --task quadratic --steps many | --steps",
        "train | Missing required option: '--task=TASK'",
        "compare --task quadratic --clip value:1 --clip value:1 | given twice",
        "compare --task quadratic --clip value:1 --seeds 5-1 | --seeds range",
        "suggest --task quadratic --probe-steps 0 | --probe-steps must be a positive whole number",
        "suggest --task quadratic --candidates 0,-1 | --candidates: each threshold must be finite and positive, got 0",
        "suggest --task quadratic --candidates 1,x | --candidates must be a list of thresholds",
        "suggest --task quadratic --race-steps 0 | --race-steps must be a positive whole number",
        "suggest --task quadratic --steps 10 --race-steps 20 | --race-steps (20) must be at most --steps (10)",
        "frobnicate | unknown command 'frobnicate'",
        "trian | unknown command 'trian'; did you mean 'train'?",
    })
    void exitsTwoWithOneLineAndWritesNothing(String args, String message) throws IOException {
        Path out = tmp.resolve("out");
        String[] argv = (args.strip() + " --out " + out).split(" ");
        if (args.startsWith("frobnicate") || args.startsWith("trian")) {
            argv = new String[] {args.strip()};
        }
        CliRunner.Result r = CliRunner.run(argv);
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(message).doesNotContain("Exception").doesNotContain("\tat ")
                .doesNotContain("is not a long").doesNotContain("is not a int");
        assertThat(out).doesNotExist();
    }

    @Test
    void unwritableOutputFolderExitsTwo() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        for (Path out : new Path[] {file, file.resolve("below")}) {
            CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--out", out.toString(), "--no-progress");
            assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).contains("output folder").contains(out.toString());
        }
        assertThat(Files.readString(file)).isEqualTo("x");
    }

    @Test
    void missingDatasetNamesTheAptGetCommand() throws IOException {
        Path out = tmp.resolve("fm");
        CliRunner.Result r = CliRunner.run("train", "--task", "fashion-mnist", "--data", tmp.resolve("nothing").toString(),
                "--out", out.toString());
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("apt-get install dataset-fashion-mnist");
        assertThat(out).doesNotExist();
        CliRunner.Result t = CliRunner.run("train", "--task", "char-lm", "--text", tmp.resolve("no.txt").toString(),
                "--out", out.toString());
        assertThat(t.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(t.err()).contains("--text");
        assertThat(out).doesNotExist();
        Path shortText = Files.writeString(tmp.resolve("short.txt"), "too short");
        CliRunner.Result s = CliRunner.run("train", "--task", "char-lm", "--text", shortText.toString(), "--out",
                out.toString());
        assertThat(s.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(s.err()).contains("characters");
        assertThat(out).doesNotExist();
    }

    @Test
    void corruptDatasetExitsTwoBeforeWriting() throws IOException {
        Path data = Files.createDirectory(tmp.resolve("fm-data"));
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"}) {
            // a header that declares 2^31 images of 28x28
            Files.write(data.resolve(f), new byte[] {0, 0, 8, 3, 127, -1, -1, -1, 0, 0, 0, 28, 0, 0, 0, 28});
        }
        Path out = tmp.resolve("fm-out");
        CliRunner.Result r = CliRunner.run("train", "--task", "fashion-mnist", "--data", data.toString(), "--out",
                out.toString());
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("declares more than");
        assertThat(out).doesNotExist();
    }

    @Test
    void reportOfAFolderWithoutRunsExitsTwo() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        CliRunner.Result r = CliRunner.run("report", empty.toString());
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("no runs in");
        try (Stream<Path> s = Files.list(empty)) {
            assertThat(s).isEmpty();
        }
        assertThat(CliRunner.run("report", tmp.resolve("missing").toString()).exit()).isEqualTo(ExitCode.USAGE);
    }

    @Test
    void helpListsTheSpecsWithExamples() {
        CliRunner.Result r = CliRunner.run("train", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("global-norm:C[,p=P]").contains("+skip-nonfinite").contains("Examples:")
                .contains("momentum:lr=").contains("quadratic");
    }

    @Test
    void helpWorksForEveryCommandIncludingBench() {
        for (String command : new String[] {"demo", "train", "compare", "suggest", "lab", "report", "bench", "help"}) {
            CliRunner.Result r = CliRunner.run("help", command);
            assertThat(r.exit()).as(command + ": " + r.err()).isZero();
            assertThat(r.out()).as(command).contains("Usage:");
            assertThat(r.err()).as(command).isEmpty();
        }
        assertThat(CliRunner.run("help", "bench").out()).contains("./gradclip bench");
        CliRunner.Result top = CliRunner.run("--help");
        assertThat(top.out()).contains("bench").contains("help COMMAND");
        CliRunner.Result r = CliRunner.run("help", "trian");
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
    }

    @Test
    void binaryTextExitsTwoNamingTheFirstBadByte() throws IOException {
        String prose = "plain prose, long enough to be a corpus. ".repeat(200);
        byte[] head = prose.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path out = tmp.resolve("lm");
        // an executable: a NUL after some text
        byte[] binary = java.util.Arrays.copyOf(head, head.length + 4);
        binary[head.length + 1] = 0;
        binary[head.length] = 'x';
        binary[head.length + 2] = 'y';
        binary[head.length + 3] = 'z';
        // Latin-1, not UTF-8: a lone 0xE9
        byte[] latin1 = java.util.Arrays.copyOf(head, head.length + 2);
        latin1[head.length] = (byte) 0xE9;
        latin1[head.length + 1] = ' ';
        byte[] bell = java.util.Arrays.copyOf(head, head.length + 1);
        bell[head.length] = 7;
        Object[][] cases = {{binary, head.length + 1, "NUL"}, {latin1, head.length, "not valid UTF-8"},
            {bell, head.length, "control byte"}};
        for (Object[] c : cases) {
            Path file = Files.write(tmp.resolve("text-" + c[1] + c[2].hashCode()), (byte[]) c[0]);
            CliRunner.Result r = CliRunner.run("train", "--task", "char-lm", "--text", file.toString(), "--out",
                    out.toString(), "--no-progress");
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.USAGE);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).contains("is not a UTF-8 text file").contains("byte " + c[1] + " ").contains((String) c[2]);
            assertThat(out).doesNotExist();
        }
        // UTF-8 with tabs, CRLF and multi-byte characters is text
        assertThat(dev.gradclip.lab.text.TextCorpus.firstBadByte(
                "é\tü\r\n€ 𝄞".getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo(-1);
    }

    @Test
    void outFolderHoldingAnotherRunIsRefusedUnlessOverwrite() throws IOException {
        Path out = tmp.resolve("reused");
        String[] train = {"train", "--task", "quadratic", "--steps", "5", "--out", out.toString(), "--no-progress"};
        assertThat(CliRunner.run(train).exit()).isZero();
        assertThat(out.resolve("summary.json")).exists();
        String before = Files.readString(out.resolve("summary.json"));

        for (String[] again : new String[][] {train,
            {"compare", "--task", "quadratic", "--clip", "none", "--seeds", "1", "--steps", "5", "--out", out.toString(),
                "--no-progress"}}) {
            CliRunner.Result r = CliRunner.run(again);
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.USAGE);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).contains("already holds a run").contains("summary.json").contains("metrics.jsonl")
                    .contains("--overwrite");
            assertThat(Files.readString(out.resolve("summary.json"))).isEqualTo(before);
        }

        // a compare's run folders count too, and --overwrite clears them: nothing stale is left
        Path grid = tmp.resolve("grid");
        assertThat(CliRunner.run("compare", "--task", "quadratic", "--clip", "none", "--clip", "value:1", "--seeds", "1-2",
                "--steps", "5", "--out", grid.toString(), "--no-progress").exit()).isZero();
        Files.delete(grid.resolve("summary.json"));
        Files.delete(grid.resolve("report.html"));
        CliRunner.Result refused = CliRunner.run("train", "--task", "quadratic", "--steps", "5", "--out", grid.toString(),
                "--no-progress");
        assertThat(refused.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(refused.err()).contains("2 run folders");
        CliRunner.Result replaced = CliRunner.run("train", "--task", "quadratic", "--steps", "5", "--out",
                grid.toString(), "--no-progress", "--overwrite");
        assertThat(replaced.exit()).as(replaced.err()).isZero();
        try (Stream<Path> s = Files.list(grid)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("metrics.jsonl", "report.html", "summary.json");
        }

        // --overwrite does not delete what gradclip did not write
        Files.writeString(grid.resolve("notes.txt"), "mine");
        CliRunner.Result foreign = CliRunner.run("train", "--task", "quadratic", "--steps", "5", "--out",
                grid.toString(), "--no-progress", "--overwrite");
        assertThat(foreign.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(foreign.err().strip().lines()).hasSize(1);
        assertThat(foreign.err()).contains("notes.txt").contains("gradclip did not write");
        assertThat(grid.resolve("notes.txt")).exists();
        assertThat(grid.resolve("summary.json")).exists();

        // a folder with other files but no run is written into as before
        Path mine = Files.createDirectory(tmp.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--steps", "5", "--out", mine.toString(),
                "--no-progress").exit()).isZero();
        assertThat(mine.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void resumeUsesOnlyCheckpointsOfTheRunInTheFolder() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        for (Path p : new Path[] {a, b}) {
            CliRunner.Result r = CliRunner.run("train", "--task", "quadratic", "--steps", "20", "--checkpoint-every", "5",
                    "--out", p.toString(), "--no-progress");
            assertThat(r.exit()).as(r.err()).isZero();
        }
        // b's checkpoints copied into a: they are another run's
        Path ca = a.resolve("checkpoints");
        try (Stream<Path> s = Files.list(ca)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".gcp")).toList()) {
                Files.delete(p);
            }
        }
        try (Stream<Path> s = Files.list(b.resolve("checkpoints"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".gcp")).toList()) {
                Files.copy(p, ca.resolve(p.getFileName()));
            }
        }
        CliRunner.Result r = CliRunner.run("train", "--resume", a.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("of another run than the one in").contains("--overwrite");

        // a later run without checkpoints in b (--overwrite) leaves no checkpoint to resume into it
        assertThat(CliRunner.run("train", "--task", "quadratic", "--steps", "7", "--out", b.toString(), "--no-progress",
                "--overwrite").exit()).isZero();
        CliRunner.Result stale = CliRunner.run("train", "--resume", b.toString());
        assertThat(stale.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(stale.err()).contains("no checkpoints folder");

        // b's own run resumes (a stopped run's folder is not "another run")
        Path c = tmp.resolve("c");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--steps", "20", "--checkpoint-every", "5", "--out",
                c.toString(), "--no-progress").exit()).isZero();
        CliRunner.Result own = CliRunner.run("train", "--resume", c.toString(), "--no-progress");
        assertThat(own.exit()).as(own.err()).isZero();
    }
}
