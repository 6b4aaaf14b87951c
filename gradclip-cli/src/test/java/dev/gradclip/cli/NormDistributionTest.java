package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NormDistributionTest {

    @Test
    void percentilesInterpolateLinearlyAsNumpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [10, 50, 90]) == [1.4, 3.0, 7.6]
        NormDistribution d = new NormDistribution(new double[] {10, 3, 1, Double.NaN, 4, 2, Double.POSITIVE_INFINITY});
        assertThat(d.count()).isEqualTo(5);
        assertThat(d.percentile(10)).isCloseTo(1.4, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(d.percentile(50)).isEqualTo(3.0);
        assertThat(d.percentile(90)).isCloseTo(7.6, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(d.percentile(100)).isEqualTo(10.0);
    }

    @Test
    void histogramCountsEveryFiniteNorm() {
        NormDistribution d = new NormDistribution(new double[] {1e-3, 1e-2, 1, 1, 10, 1e4, 0});
        var bins = d.histogram(7);
        assertThat(bins).hasSize(7);
        assertThat(bins.stream().mapToInt(NormDistribution.Bin::count).sum()).isEqualTo(7);
        assertThat(bins.get(0).lower()).isCloseTo(1e-3, org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(bins.get(6).upper()).isCloseTo(1e4, org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(new NormDistribution(new double[] {2, 2}).histogram(5)).hasSize(1);
    }
}
