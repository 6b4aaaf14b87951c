package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabCommandTest {

    @TempDir
    Path tmp;

    @Test
    void aQuickLookAtOneWorkloadWritesItsTableAndVerdict() throws IOException {
        Path out = tmp.resolve("lab");
        // 1% of the steps: 30 RNN steps per run, every method, one seed
        CliRunner.Result r = CliRunner.run("lab", "--workloads", "adding-T10", "--seeds", "1", "--steps-scale", "0.01",
                "--eval-samples", "100", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        String md = Files.readString(out.resolve("lab.md"));
        int methods = 1 + LabCommand.FIXED.size() + 1 + LabCommand.AUTOMATIC.size();
        assertThat(md.lines().filter(l -> l.startsWith("| adding-T10 |"))).hasSize(methods);
        assertThat(md).contains("best fixed threshold").contains("best automatic");
        JsonNode s = TrainCommandTest.json(out.resolve("summary.json"));
        assertThat(s.get("workloads")).hasSize(1);
        assertThat(s.get("workloads").get(0).get("rows")).hasSize(methods);
        assertThat(s.get("runs")).hasSize(methods);
    }

    @Test
    void anUnknownWorkloadIsRefusedNamingTheChoices() {
        Path out = tmp.resolve("bad");
        CliRunner.Result r = CliRunner.run("lab", "--workloads", "adding-T11", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("adding-T11").contains("adding-T10");
        assertThat(out).doesNotExist();
    }

    @Test
    void within5PercentReadsAccuracyRelativelyAndErrorRatesInPoints() {
        dev.gradclip.cli.run.Evidence fixedAcc = new dev.gradclip.cli.run.Evidence("g", 5, 5, 0, 0, "test_accuracy",
                true, 0.8325, 0.79, 0.84, 0.5, 240, 600, 0);
        dev.gradclip.cli.run.Evidence autoAcc = new dev.gradclip.cli.run.Evidence("z", 5, 5, 0, 0, "test_accuracy",
                true, 0.7895, 0.78, 0.82, 0.5, 480, 300, 0);
        assertThat(LabCommand.within5Percent(autoAcc, fixedAcc)).as("0.7895 is 5.2% below 0.8325").isFalse();
        dev.gradclip.cli.run.Evidence fixedErr = new dev.gradclip.cli.run.Evidence("g", 5, 5, 0, 0, "error_rate",
                false, 0.0025, 0.0005, 0.011, 0.002, 1500, 2990, 0);
        dev.gradclip.cli.run.Evidence autoErr = new dev.gradclip.cli.run.Evidence("z", 5, 4, 0, 1, "error_rate",
                false, 0.0065, 0, 0.07, 0.003, 1500, 2606, 0);
        assertThat(LabCommand.within5Percent(autoErr, fixedErr)).as("one seed fewer learned").isFalse();
        dev.gradclip.cli.run.Evidence autoErr5 = new dev.gradclip.cli.run.Evidence("z", 5, 5, 0, 0, "error_rate",
                false, 0.0005, 0.0005, 0.031, 0.003, 2100, 959, 0);
        assertThat(LabCommand.within5Percent(autoErr5, fixedErr)).isTrue();
    }
}
