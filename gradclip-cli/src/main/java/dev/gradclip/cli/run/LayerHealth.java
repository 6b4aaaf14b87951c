package dev.gradclip.cli.run;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Names the layers whose gradient exploded or vanished during a run, from the per-layer gradient
 * norms of every step (the seed's two failures, visible in the report's heat map).
 *
 * <p>With {@code early} the median of a layer's norm over the first tenth of the steps and
 * {@code late} that over the last tenth (at least one step each):
 * <ul>
 *   <li>exploding: a non-finite norm at any step, or {@code late > 1e3 · early};</li>
 *   <li>vanishing: {@code late < 1e-4} times the largest {@code late} of all layers: a layer that
 *       receives almost no gradient compared with the others. A gradient that shrinks in every layer
 *       alike is convergence, not vanishing, so a model of one layer never has a vanishing one.</li>
 * </ul>
 */
public final class LayerHealth {

    /** The growth factor above which a layer counts as exploding. */
    public static final double EXPLODING_GROWTH = 1e3;
    /** How much smaller than the largest layer a layer may be before it counts as vanishing. */
    public static final double VANISHING_RELATIVE = 1e-4;

    private final List<String> exploding = new ArrayList<>();
    private final List<String> vanishing = new ArrayList<>();

    /**
     * @param layers the layer names
     * @param norms  {@code norms[l][s]}: layer l's gradient norm at step s (only the first
     *               {@code steps} entries are used)
     * @param steps  the number of steps recorded
     */
    public LayerHealth(List<String> layers, double[][] norms, int steps) {
        if (steps == 0) {
            return;
        }
        int tenth = Math.max(1, steps / 10);
        double[] early = new double[layers.size()];
        double[] late = new double[layers.size()];
        boolean[] nonFinite = new boolean[layers.size()];
        double largestLate = 0;
        for (int l = 0; l < layers.size(); l++) {
            for (int s = 0; s < steps; s++) {
                nonFinite[l] |= !Double.isFinite(norms[l][s]);
            }
            early[l] = median(norms[l], 0, tenth);
            late[l] = median(norms[l], steps - tenth, steps);
            if (Double.isFinite(late[l])) {
                largestLate = Math.max(largestLate, late[l]);
            }
        }
        for (int l = 0; l < layers.size(); l++) {
            if (nonFinite[l] || late[l] > EXPLODING_GROWTH * early[l]) {
                exploding.add(layers.get(l));
            } else if (late[l] < VANISHING_RELATIVE * largestLate) {
                vanishing.add(layers.get(l));
            }
        }
    }

    private static double median(double[] a, int from, int to) {
        double[] s = Arrays.copyOfRange(a, from, to);
        Arrays.sort(s); // NaN sorts last, so a few NaNs do not hide the finite median
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
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
