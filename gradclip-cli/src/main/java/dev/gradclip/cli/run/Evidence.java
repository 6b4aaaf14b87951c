package dev.gradclip.cli.run;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one clip spec's runs over several seeds show: how many learned, diverged and stalled, the
 * held-out metric's median and range over the runs that did not diverge, and the median step at
 * which the learned runs first met the success criterion. Diverged runs never enter a median or a
 * mean.
 *
 * @param clip            the clip spec's label
 * @param runs            how many runs (seeds)
 * @param learned         runs that learned the task
 * @param diverged        runs that diverged
 * @param stalled         runs that stalled
 * @param metric          the held-out metric's name
 * @param higherIsBetter  whether a larger metric is better
 * @param evalMedian      the metric's median over the runs that did not diverge (NaN if none)
 * @param evalMin         its smallest value over those runs
 * @param evalMax         its largest value over those runs
 * @param finalLossMedian the final training loss's median over those runs
 * @param stepsToSuccess  the median first step that met the criterion, over the learned runs (NaN if none)
 * @param clippedStepsMean the mean number of clipped steps over all runs
 * @param skippedStepsMean the mean number of skipped steps over all runs
 */
public record Evidence(String clip, int runs, int learned, int diverged, int stalled, String metric,
        boolean higherIsBetter, double evalMedian, double evalMin, double evalMax, double finalLossMedian,
        double stepsToSuccess, double clippedStepsMean, double skippedStepsMean) {

    /**
     * @param clip    the clip spec's label
     * @param results its runs, one per seed (at least one)
     * @return the evidence
     */
    public static Evidence of(String clip, List<RunResult> results) {
        int learned = 0;
        int diverged = 0;
        List<Double> evals = new ArrayList<>();
        List<Double> finals = new ArrayList<>();
        List<Double> steps = new ArrayList<>();
        double clipped = 0;
        double skipped = 0;
        for (RunResult r : results) {
            if (r.outcome().learned()) {
                learned++;
                steps.add((double) r.outcome().stepsToSuccess());
            }
            if (r.outcome().diverged()) {
                diverged++;
            } else {
                evals.add(r.evaluation().value());
                finals.add(r.finalLoss());
            }
            clipped += r.clippedSteps();
            skipped += r.skippedSteps();
        }
        RunResult first = results.get(0);
        double[] e = sorted(evals);
        return new Evidence(clip, results.size(), learned, diverged, results.size() - learned - diverged,
                first.evaluation().metric(), first.evaluation().criterion().higherIsBetter(), median(e),
                e.length == 0 ? Double.NaN : e[0], e.length == 0 ? Double.NaN : e[e.length - 1],
                median(sorted(finals)), median(sorted(steps)), clipped / results.size(), skipped / results.size());
    }

    /** @return "learned 5/5, diverged 0/5, stalled 0/5" */
    public String counts() {
        return String.format(Locale.ROOT, "learned %d/%d, diverged %d/%d, stalled %d/%d", learned, runs, diverged, runs,
                stalled, runs);
    }

    /** @return the fields of a {@code summary.json} row */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clip", clip);
        m.put("runs", runs);
        m.put("learned", learned);
        m.put("diverged", diverged);
        m.put("stalled", stalled);
        m.put("eval_metric", metric);
        m.put("eval_median", evalMedian);
        m.put("eval_min", evalMin);
        m.put("eval_max", evalMax);
        m.put("final_loss_median", finalLossMedian);
        m.put("steps_to_success_median", stepsToSuccess);
        m.put("clipped_steps_mean", clippedStepsMean);
        m.put("skipped_steps_mean", skippedStepsMean);
        return m;
    }

    /**
     * Whether this spec's evidence is better than another's: more runs learned, then fewer diverged,
     * then a better median metric.
     *
     * @param o the other
     * @return whether this one is better
     */
    public boolean betterThan(Evidence o) {
        if (learned != o.learned) {
            return learned > o.learned;
        }
        if (diverged != o.diverged) {
            return diverged < o.diverged;
        }
        if (Double.isNaN(o.evalMedian)) {
            return !Double.isNaN(evalMedian);
        }
        return higherIsBetter ? evalMedian > o.evalMedian : evalMedian < o.evalMedian;
    }

    /**
     * One or two sentences that follow from the counts: the best spec, and how it compares with the
     * unclipped spec ({@code none...}) when there is one.
     *
     * @param all the evidence of every spec of a comparison, in order
     * @return the verdict
     */
    public static String verdict(List<Evidence> all) {
        Evidence best = all.get(0);
        for (Evidence e : all) {
            if (e.betterThan(best)) {
                best = e;
            }
        }
        Evidence none = null;
        for (Evidence e : all) {
            if (e.clip.equals("none") || e.clip.startsWith("none+")) {
                none = e;
                break;
            }
        }
        StringBuilder sb = new StringBuilder();
        if (best.learned == 0) {
            sb.append(String.format(Locale.ROOT, "No spec learned the task on any of the %d seeds; try more steps"
                    + " (--steps) or another learning rate.", best.runs));
        } else {
            sb.append(String.format(Locale.ROOT, "Best: %s, %s (median %s %s).", best.clip, best.counts(), best.metric,
                    num(best.evalMedian)));
        }
        if (none != null && (none != best || best.learned == 0)) {
            sb.append(String.format(Locale.ROOT, " Without clipping: %s.", none.counts()));
            if (best.learned > none.learned) {
                sb.append(String.format(Locale.ROOT, " With %s, %d more of the %d seeds learned the task.", best.clip,
                        best.learned - none.learned, best.runs));
            }
        }
        return sb.toString();
    }

    private static double[] sorted(List<Double> values) {
        double[] a = values.stream().filter(d -> !Double.isNaN(d)).mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
