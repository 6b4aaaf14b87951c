package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareSuggestReportTest {

    @TempDir
    Path tmp;

    @Test
    void compareRunsTheGridAndSummarisesEachClipSpec() throws IOException {
        Path out = tmp.resolve("cmp");
        CliRunner.Result r = CliRunner.run("compare", "--task", "quadratic", "--x0", "1e6", "--optimizer",
                "sgd:lr=1.5", "--clip", "none+propagate-nonfinite", "--clip", "value:1.0", "--seeds", "1-3",
                "--steps", "40", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("none+propagate-nonfinite").contains("value:1.0").contains("learned")
                .contains("eval median [min, max]").contains("Without clipping: learned 0/3, diverged 3/3");

        JsonNode s = TrainCommandTest.json(out.resolve("summary.json"));
        assertThat(s.get("rows")).hasSize(2);
        JsonNode none = s.get("rows").get(0);
        assertThat(none.get("clip").asText()).isEqualTo("none+propagate-nonfinite");
        assertThat(none.get("runs").asInt()).isEqualTo(3);
        // |x| doubles every step: after 40 steps the loss is 2^80 times the start's, finite but blown up
        assertThat(none.get("diverged").asInt()).isEqualTo(3);
        assertThat(none.get("learned").asInt()).isZero();
        assertThat(none.get("eval_median").isNull()).as("diverged runs enter no median").isTrue();
        assertThat(none.get("final_loss_median").isNull()).isTrue();
        JsonNode clipped = s.get("rows").get(1);
        // clipped, x moves by lr * c = 1.5 per step: finite, far from the minimum
        assertThat(clipped.get("diverged").asInt()).isZero();
        assertThat(clipped.get("stalled").asInt()).isEqualTo(3);
        assertThat(clipped.get("eval_min").asDouble()).isEqualTo(clipped.get("eval_max").asDouble()); // quadratic ignores the seed
        assertThat(s.get("verdict").asText()).contains("No spec learned");
        for (JsonNode run : s.get("runs")) {
            assertThat(run.get("outcome").asText()).isEqualTo(run.get("clip").asText().startsWith("none")
                    ? "diverged" : "stalled");
        }
        assertThat(s.get("runs")).hasSize(6);
        assertThat(out.resolve("value_1.0/seed-2/metrics.jsonl")).exists();
        assertThat(Files.readString(out.resolve("report.html"))).contains("none+propagate-nonfinite seed 3");
    }

    @Test
    void suggestRacesCandidatesAndRecommendsOneThatDidNotDiverge() throws IOException {
        Path out = tmp.resolve("sug");
        // unclipped, sgd lr=1.5 on x^2 doubles |x| every step: the probe diverges
        CliRunner.Result r = CliRunner.run("suggest", "--task", "quadratic", "--x0", "1e6", "--optimizer", "sgd:lr=1.5",
                "--probe-steps", "20", "--steps", "40", "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("p50").contains("histogram").contains("#").contains("race of")
                .contains("recommended threshold").contains("reason:")
                .contains("next: ./gradclip train --task quadratic --steps 40 --x0 1000000 --optimizer sgd:lr=1.5"
                        + " --clip global-norm:");
        JsonNode s = TrainCommandTest.json(out.resolve("suggestion.json"));
        assertThat(s.get("probe").get("diverged").asBoolean()).isTrue();
        assertThat(s.get("percentiles").get("p50").asDouble()).isPositive();
        assertThat(s.get("percentiles").has("p90")).isTrue();

        // candidates: the decades and the probe's p10, p50, p90, each in the output and raced
        JsonNode cands = s.get("candidates");
        java.util.List<Double> thresholds = new java.util.ArrayList<>();
        JsonNode winner = null;
        double recommended = s.get("recommended_threshold").asDouble();
        for (JsonNode c : cands) {
            double t = c.get("threshold").asDouble();
            thresholds.add(t);
            assertThat(r.out()).contains(ThresholdRace.plain(t));
            assertThat(c.get("race")).isNotEmpty();
            assertThat(out.resolve("race/round-1/" + c.get("clip").asText().replace(':', '_') + "/seed-1/summary.json"))
                    .exists();
            if (t == recommended) {
                winner = c;
            }
        }
        assertThat(thresholds).contains(0.01, 0.1, 1.0, 10.0).isSorted().doesNotHaveDuplicates();
        assertThat(cands.toString()).contains("p10 = ").contains("p50 = ").contains("p90 = ");
        // the probe's percentiles are far above the start's norm 2e6 times a few doublings: they diverge
        assertThat(cands.toString()).contains("\"diverged\":1");

        // the recommendation raced to the last round and none of its runs diverged
        assertThat(winner).isNotNull();
        assertThat(winner.get("final_rank").asInt()).isEqualTo(1);
        for (JsonNode round : winner.get("race")) {
            assertThat(round.get("diverged").asInt()).isZero();
        }
        JsonNode lastRound = winner.get("race").get(winner.get("race").size() - 1);
        assertThat(lastRound.get("steps").asInt()).isEqualTo(40);
        assertThat(s.get("recommended_clip").asText()).isEqualTo(winner.get("clip").asText());
        assertThat(s.get("reason").asText()).contains("ranked first").contains("probe diverged");
        assertThat(s.get("next_command").asText()).endsWith("--clip " + winner.get("clip").asText());
        // successive halving: 10, 20 then 40 steps, half the candidates each time
        JsonNode rounds = s.get("race").get("rounds");
        assertThat(rounds).hasSize(3);
        assertThat(rounds.get(0).get("steps").asInt()).isEqualTo(10);
        assertThat(rounds.get(1).get("ranking").size()).isEqualTo((cands.size() + 1) / 2);
    }

    @Test
    void suggestRacesTheGivenCandidatesInOneRoundWithoutHalving() throws IOException {
        Path out = tmp.resolve("sug1");
        CliRunner.Result r = CliRunner.run("suggest", "--task", "quadratic", "--x0", "10", "--candidates", "100,0.5,5,5",
                "--probe-steps", "5", "--race-steps", "60", "--steps", "80", "--no-halving", "--seeds", "1-2",
                "--out", out.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode s = TrainCommandTest.json(out.resolve("suggestion.json"));
        assertThat(s.get("candidates")).hasSize(3);
        assertThat(s.get("race").get("rounds")).hasSize(1);
        // sgd lr=0.1 from 10: x shrinks by 0.8 a step where unclipped. 0.5 moves x by 0.05 a step: stalled
        JsonNode small = s.get("candidates").get(0);
        assertThat(small.get("threshold").asDouble()).isEqualTo(0.5);
        assertThat(small.get("race").get(0).get("stalled").asInt()).isEqualTo(2);
        assertThat(small.get("race").get(0).get("clipped_fraction").asDouble()).isEqualTo(1.0);
        // 5 clips the first 15 steps (|x| from 10 to 2.5), 100 none: both learn, 100 to a smaller loss
        assertThat(s.get("candidates").get(1).get("race").get(0).get("learned").asInt()).isEqualTo(2);
        assertThat(s.get("candidates").get(2).get("race").get(0).get("clipped_fraction").asDouble()).isZero();
        assertThat(s.get("recommended_threshold").asDouble()).isEqualTo(100.0);
        assertThat(r.out()).contains("--candidates").contains("next: ./gradclip train --task quadratic --steps 80 --x0 10"
                + " --clip global-norm:100");
        assertThat(s.get("candidates").get(0).get("from").get(0).asText()).isEqualTo("--candidates");
        assertThat(out.resolve("race/round-1/global-norm_100/seed-2/metrics.jsonl")).exists();
    }

    @Test
    void reportRebuildsFromTheMetricsFiles() throws IOException {
        Path out = tmp.resolve("run");
        assertThat(CliRunner.run("train", "--task", "quadratic", "--steps", "10", "--out", out.toString(),
                "--no-progress").exit()).isZero();
        Files.delete(out.resolve("report.html"));
        CliRunner.Result r = CliRunner.run("report", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains("gradclip train: quadratic with value:1.0").doesNotContain("cdn")
                .doesNotContain("<script src");
    }
}
