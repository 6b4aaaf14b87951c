package dev.gradclip.cli;

import dev.gradclip.cli.run.Evidence;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The candidates and the ranking of {@code gradclip suggest}'s race of global-norm thresholds.
 *
 * <p>Candidates: the decades {@link #DECADES} and the probe's {@link #PERCENTILES percentiles} (the
 * percentiles of the unclipped gradient norm that AutoClip clips at, Seetharaman et al. 2020,
 * arXiv:2007.14469), rounded to two significant digits. A percentile within a factor
 * {@value #MERGE_RATIO} of a decade (or of an earlier percentile) is the same candidate for a race:
 * it is merged into it, which keeps its name in {@link Candidate#sources()}.
 *
 * <p>Ranking ({@link #ORDER}): more runs learned first, then fewer diverged, then the better median
 * held-out metric over the runs that did not diverge ({@link Evidence#betterThan}); a tie goes to the
 * larger threshold, which clips less.
 */
final class ThresholdRace {

    /** The decades every race tries. */
    static final double[] DECADES = {0.01, 0.1, 1, 10};
    /** The probe percentiles every race tries. */
    static final int[] PERCENTILES = {10, 50, 90};
    /** Percentile candidates closer than this factor to an earlier candidate are merged into it. */
    static final double MERGE_RATIO = 1.5;

    private ThresholdRace() {
    }

    /**
     * A threshold to race and where it came from.
     *
     * @param threshold the global-norm threshold
     * @param sources   where it came from: "decade", "p10 = 0.0908", "--candidates"
     */
    record Candidate(double threshold, List<String> sources) {

        /** @return the clip spec, e.g. {@code global-norm:0.1} */
        String clip() {
            return "global-norm:" + plain(threshold);
        }
    }

    /**
     * A candidate's short-run result in one round.
     *
     * @param candidate the candidate
     * @param evidence  its runs' evidence
     * @param steps     the steps each run trained
     */
    record Entry(Candidate candidate, Evidence evidence, int steps) {

        /** @return the mean share of steps clipped over the round's runs */
        double clippedFraction() {
            return steps == 0 ? Double.NaN : evidence.clippedStepsMean() / steps;
        }
    }

    /** Best first: more learned, fewer diverged, better median metric, then the larger threshold. */
    static final Comparator<Entry> ORDER = (a, b) -> {
        if (a.evidence().betterThan(b.evidence())) {
            return -1;
        }
        if (b.evidence().betterThan(a.evidence())) {
            return 1;
        }
        return Double.compare(b.candidate().threshold(), a.candidate().threshold());
    };

    /**
     * @param a one entry
     * @param b another
     * @return whether neither one's evidence is better than the other's (the threshold decides)
     */
    static boolean tied(Entry a, Entry b) {
        return !a.evidence().betterThan(b.evidence()) && !b.evidence().betterThan(a.evidence());
    }

    /**
     * The default candidates: the decades and the probe's percentiles, merged and sorted.
     *
     * @param percentile the probe's percentile for p in [0, 100] (NaN when the probe has no finite norm)
     * @return the candidates, smallest first
     */
    static List<Candidate> fromProbe(java.util.function.DoubleUnaryOperator percentile) {
        List<Candidate> out = new ArrayList<>();
        for (double d : DECADES) {
            out.add(new Candidate(d, new ArrayList<>(List.of("decade"))));
        }
        for (int p : PERCENTILES) {
            double v = round2(percentile.applyAsDouble(p));
            if (!(v > 0) || !Double.isFinite(v)) {
                continue;
            }
            String source = "p" + p + " = " + plain(v);
            Candidate near = null;
            for (Candidate c : out) {
                if (Math.max(v, c.threshold()) / Math.min(v, c.threshold()) < MERGE_RATIO) {
                    near = c;
                    break;
                }
            }
            if (near != null) {
                near.sources().add(source);
            } else {
                out.add(new Candidate(v, new ArrayList<>(List.of(source))));
            }
        }
        out.sort(Comparator.comparingDouble(Candidate::threshold));
        return out;
    }

    /**
     * @param text the {@code --candidates} list, e.g. {@code 0.1,1,10}
     * @return the candidates, without repeats, smallest first
     * @throws UsageException if an entry is not a finite positive number
     */
    static List<Candidate> parse(String text) {
        TreeMap<Double, Candidate> out = new TreeMap<>();
        for (String part : text.split(",", -1)) {
            String p = part.trim();
            double v;
            try {
                v = Double.parseDouble(p);
            } catch (NumberFormatException e) {
                throw new UsageException("--candidates must be a list of thresholds like 0.1,1,10, got '" + text + "'");
            }
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new UsageException("--candidates: each threshold must be finite and positive, got " + p);
            }
            out.putIfAbsent(v, new Candidate(v, List.of("--candidates")));
        }
        return new ArrayList<>(out.values());
    }

    /**
     * @param v a positive finite number
     * @return it rounded to two significant digits
     */
    static double round2(double v) {
        return Double.isFinite(v) && v > 0 ? new BigDecimal(v).round(new MathContext(2)).doubleValue() : v;
    }

    /**
     * @param v a number
     * @return its shortest decimal text, e.g. {@code 0.1}, {@code 20}, {@code 1.7e16} for huge ones (no
     *         {@code +}, which would split a clip spec)
     */
    static String plain(double v) {
        BigDecimal b = BigDecimal.valueOf(v).stripTrailingZeros();
        return Math.abs(v) >= 1e7 ? b.toString().replace("E+", "e") : b.toPlainString();
    }

    /**
     * @param e a candidate's evidence
     * @return "learned 1/2, diverged 0/2, stalled 1/2, error_rate median 0.0088"
     */
    static String summary(Evidence e) {
        return e.counts() + (Double.isNaN(e.evalMedian()) ? "" : String.format(Locale.ROOT, ", %s median %s",
                e.metric(), TextTable.num(e.evalMedian())));
    }
}
