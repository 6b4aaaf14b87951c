package dev.gradclip.cli.run;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Names the layers whose gradient exploded or vanished during a run, from the per-layer gradient
 * norms of every step, by the rule the report's heat map colours by.
 *
 * <p>Every norm is measured against the run's <b>reference</b> {@code R}: the median of all layers'
 * finite, non-zero norms over the first tenth of the steps (at least one), the run's typical
 * gradient at its start. The heat map draws {@code log10(norm / R)} on one scale for every layer and
 * run. With {@code w = max(3, steps / 100)}:
 * <ul>
 *   <li>exploding: a non-finite norm at any step, or, for some {@code w} consecutive steps, a median
 *       norm at least {@value #EXPLODING_GROWTH} times {@code R} (+3 on the heat map's scale). A lone
 *       spike does not count; a climb that lasts, even one cut short by divergence or followed by a
 *       collapse of the gradient, does;</li>
 *   <li>vanishing: the median over the last tenth of the steps below {@value #VANISHING_RELATIVE}
 *       times {@code R} (−4 on the scale) and below that fraction of the largest such median of all
 *       layers: a layer that receives almost no gradient while another still does. A gradient that
 *       shrinks in every layer alike is convergence, not vanishing, so a model of one layer never has
 *       a vanishing one.</li>
 * </ul>
 */
public final class LayerHealth {

    /** How many times the run's reference norm a layer's sustained norm must reach to count as exploding. */
    public static final double EXPLODING_GROWTH = 1e3;
    /** How much smaller than the reference (and the largest layer) a layer may end before it counts as vanishing. */
    public static final double VANISHING_RELATIVE = 1e-4;

    private final List<String> exploding = new ArrayList<>();
    private final List<String> vanishing = new ArrayList<>();
    private final double reference;

    /**
     * @param layers the layer names
     * @param norms  {@code norms[l][s]}: layer l's gradient norm at step s (only the first
     *               {@code steps} entries are used)
     * @param steps  the number of steps recorded
     */
    public LayerHealth(List<String> layers, double[][] norms, int steps) {
        reference = reference(norms, steps);
        if (steps == 0 || layers.isEmpty()) {
            return;
        }
        int tenth = Math.max(1, steps / 10);
        int w = window(steps);
        double[] late = new double[layers.size()];
        double largestLate = 0;
        for (int l = 0; l < layers.size(); l++) {
            late[l] = median(norms[l], steps - tenth, steps);
            if (Double.isFinite(late[l])) {
                largestLate = Math.max(largestLate, late[l]);
            }
        }
        for (int l = 0; l < layers.size(); l++) {
            if (explodes(norms[l], steps, w)) {
                exploding.add(layers.get(l));
            } else if (late[l] < VANISHING_RELATIVE * reference && late[l] < VANISHING_RELATIVE * largestLate) {
                vanishing.add(layers.get(l));
            }
        }
    }

    private boolean explodes(double[] a, int steps, int w) {
        for (int s = 0; s < steps; s++) {
            if (Double.isInfinite(a[s]) || Double.isNaN(a[s])) {
                return true;
            }
        }
        if (!(reference > 0)) {
            return false;
        }
        double limit = EXPLODING_GROWTH * reference;
        // the median of w consecutive values reaches the limit when more than half of them do
        int need = w / 2 + 1;
        int above = 0;
        for (int s = 0; s < steps; s++) {
            above += a[s] >= limit ? 1 : 0;
            if (s >= w) {
                above -= a[s - w] >= limit ? 1 : 0;
            }
            if (above >= Math.min(need, steps / 2 + 1)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The run's reference norm: the median of every layer's finite, non-zero norm over the first tenth
     * of the steps (at least one).
     *
     * @param norms {@code norms[l][s]}
     * @param steps the number of steps recorded
     * @return the reference, or NaN when there is no such norm
     */
    public static double reference(double[][] norms, int steps) {
        int tenth = Math.max(1, steps / 10);
        double[] pool = new double[norms.length * Math.min(tenth, Math.max(steps, 0))];
        int n = 0;
        for (double[] layer : norms) {
            for (int s = 0; s < Math.min(tenth, steps); s++) {
                if (layer[s] > 0 && Double.isFinite(layer[s])) {
                    pool[n++] = layer[s];
                }
            }
        }
        return n == 0 ? Double.NaN : median(pool, 0, n);
    }

    /**
     * @param steps the number of steps recorded
     * @return how many consecutive steps an explosion must last: {@code max(3, steps / 100)}
     */
    public static int window(int steps) {
        return Math.max(3, steps / 100);
    }

    private static double median(double[] a, int from, int to) {
        double[] s = Arrays.copyOfRange(a, from, to);
        Arrays.sort(s); // NaN sorts last, so a few NaNs do not hide the finite median
        int n = s.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /** @return the run's reference norm (see {@link #reference}) */
    public double reference() {
        return reference;
    }

    /** @return the layers whose gradient exploded */
    public List<String> exploding() {
        return List.copyOf(exploding);
    }

    /** @return the layers whose gradient vanished */
    public List<String> vanishing() {
        return List.copyOf(vanishing);
    }
}
