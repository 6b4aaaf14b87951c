package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.cli.ThresholdRace.Candidate;
import dev.gradclip.cli.ThresholdRace.Entry;
import dev.gradclip.cli.run.Evidence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThresholdRaceTest {

    @Test
    void candidatesAreTheDecadesAndThePercentilesMergedWhenClose() {
        // p10 = 0.0908 rounds to 0.091, within 1.5x of 0.1: merged; p50 = 0.35 stays; p90 = 83 stays
        Map<Integer, Double> p = Map.of(10, 0.0908, 50, 0.3456, 90, 82.95);
        List<Candidate> c = ThresholdRace.fromProbe(q -> p.get((int) q));
        assertThat(c).extracting(Candidate::threshold).containsExactly(0.01, 0.1, 0.35, 1.0, 10.0, 83.0);
        assertThat(c.get(1).sources()).containsExactly("decade", "p10 = 0.091");
        assertThat(c.get(2).clip()).isEqualTo("global-norm:0.35");
        // a probe without finite norms: the decades alone
        assertThat(ThresholdRace.fromProbe(q -> Double.NaN)).hasSize(4);
        assertThat(ThresholdRace.plain(1.7e16)).isEqualTo("1.7e16");
    }

    @Test
    void rankingPrefersLearnedThenFewerDivergedThenTheMetricThenTheLargerThreshold() {
        Entry learned = entry(0.1, 2, 0, 0.05);
        Entry better = entry(0.01, 1, 0, 0.01);
        Entry diverged = entry(10, 1, 1, 0.01);
        Entry tieSmall = entry(0.5, 0, 0, 0.3);
        Entry tieLarge = entry(5, 0, 0, 0.3);
        List<Entry> all = new ArrayList<>(List.of(tieSmall, diverged, better, tieLarge, learned));
        all.sort(ThresholdRace.ORDER);
        assertThat(all).containsExactly(learned, better, diverged, tieLarge, tieSmall);
        assertThat(ThresholdRace.tied(tieLarge, tieSmall)).isTrue();
    }

    private static Entry entry(double threshold, int learned, int diverged, double eval) {
        Evidence e = new Evidence("global-norm:" + threshold, 2, learned, diverged, 2 - learned - diverged,
                "error_rate", false, eval, eval, eval, 0.01, 100, 50, 0);
        return new Entry(new Candidate(threshold, List.of("decade")), e, 100);
    }
}
