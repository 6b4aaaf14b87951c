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
        "train --task quadratic --frobnicate | Unknown option: '--frobnicate'",
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
        "frobnicate | Unmatched argument",
    })
    void exitsTwoWithOneLineAndWritesNothing(String args, String message) throws IOException {
        Path out = tmp.resolve("out");
        String[] argv = (args.strip() + " --out " + out).split(" ");
        if (args.startsWith("frobnicate")) {
            argv = new String[] {"frobnicate"};
        }
        CliRunner.Result r = CliRunner.run(argv);
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(message).doesNotContain("Exception").doesNotContain("\tat ");
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
}
