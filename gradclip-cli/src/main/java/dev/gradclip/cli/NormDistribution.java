package dev.gradclip.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The distribution of the finite gradient norms of a probe: percentiles (linear interpolation
 * between closest ranks, numpy's default), and a histogram over log-spaced bins (norms span orders
 * of magnitude).
 */
final class NormDistribution {

    /** The percentiles reported. */
    static final double[] PERCENTILES = {1, 5, 10, 25, 50, 75, 90, 95, 99};

    private final double[] sorted;

    NormDistribution(double[] norms) {
        this.sorted = Arrays.stream(norms).filter(Double::isFinite).sorted().toArray();
    }

    int count() {
        return sorted.length;
    }

    double min() {
        return sorted.length == 0 ? Double.NaN : sorted[0];
    }

    double max() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
    }

    /**
     * @param p a percentile in [0, 100]
     * @return numpy's {@code percentile(norms, p)}: rank {@code h = (n−1)·p/100}, interpolated
     *         between {@code ⌊h⌋} and {@code ⌈h⌉}; NaN when there are no finite norms
     */
    double percentile(double p) {
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        double h = (n - 1) * p / 100.0;
        int lo = (int) Math.floor(h);
        int hi = Math.min(n - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /** @return the reported percentiles by name ({@code p10} ...) */
    Map<String, Double> percentiles() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (double p : PERCENTILES) {
            m.put("p" + (int) p, percentile(p));
        }
        return m;
    }

    /**
     * One histogram bin.
     *
     * @param lower its lower edge
     * @param upper its upper edge (inclusive for the last bin)
     * @param count how many norms fall in it
     */
    record Bin(double lower, double upper, int count) {
    }

    /**
     * @param bins the number of bins
     * @return bins of equal width in log10 between the smallest and largest positive norm (one bin
     *         when they are equal); zero norms are counted in the first bin
     */
    List<Bin> histogram(int bins) {
        List<Bin> out = new ArrayList<>();
        double[] positive = Arrays.stream(sorted).filter(v -> v > 0).toArray();
        if (positive.length == 0) {
            if (sorted.length > 0) {
                out.add(new Bin(0, 0, sorted.length));
            }
            return out;
        }
        double lo = Math.log10(positive[0]);
        double hi = Math.log10(positive[positive.length - 1]);
        int k = hi > lo ? bins : 1;
        int[] counts = new int[k];
        for (double v : sorted) {
            int b = v <= 0 || k == 1 ? 0 : (int) Math.min(k - 1, Math.floor((Math.log10(v) - lo) / (hi - lo) * k));
            counts[b]++;
        }
        for (int b = 0; b < k; b++) {
            double a = k == 1 ? positive[0] : Math.pow(10, lo + (hi - lo) * b / k);
            double z = k == 1 ? positive[positive.length - 1] : Math.pow(10, lo + (hi - lo) * (b + 1) / k);
            out.add(new Bin(a, z, counts[b]));
        }
        return out;
    }
}
