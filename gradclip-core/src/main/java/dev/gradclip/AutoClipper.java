package dev.gradclip;

import dev.gradclip.internal.NormWindow;
import dev.gradclip.internal.Norms;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;

/**
 * AutoClip: clips by global norm at a percentile of the norms seen so far, so the threshold needs
 * no tuning.
 *
 * <p>Rule at step {@code t}, with {@code n_t} the global L2 norm before clipping:
 * <pre>
 *   history.append(n_t)                          the current norm is included
 *   τ_t = percentile(history, p)                 linear interpolation, as numpy's default
 *   if n_t &gt; τ_t:  g ← g · τ_t/n_t               (or τ_t/(n_t + ε) with {@link #withEpsilon})
 * </pre>
 * with {@code p = 10} by default, as in the paper's experiments. The history is bounded to the last
 * {@link #DEFAULT_WINDOW 10,000} norms (the original keeps all of them, so its memory grows without
 * end). The first step is never clipped ({@code τ_1 = n_1}).
 *
 * <p>Special cases: the history is updated only when the step is not skipped (under
 * {@link NonFinitePolicy#SKIP} a non-finite step leaves it untouched) and only with finite norms;
 * under {@code PROPAGATE} a NaN norm gives a NaN coefficient (every element becomes NaN), an infinite
 * one a coefficient of 0. The report's threshold is {@code τ_t}.
 *
 * <p>State: the window of norms, saved exactly by {@link #saveState()}.
 *
 * <p>Reference: Seetharaman, Wichern, Pardo, Le Roux, "AutoClip: Adaptive Gradient Clipping for
 * Source Separation Networks", MLSP 2020, arXiv:2007.14469 (code: pseeth/autoclip).
 */
public final class AutoClipper extends AbstractClipper {

    /** The paper's percentile. */
    public static final double DEFAULT_PERCENTILE = 10.0;
    /** How many recent norms are kept by default. */
    public static final int DEFAULT_WINDOW = 10_000;

    private static final String KIND = "autoclip";
    private static final int STATE_VERSION = 1;

    private final double percentile;
    private final double epsilon;
    private final NormWindow history;

    AutoClipper(double percentile, int window, double epsilon, NonFinitePolicy policy) {
        super(policy);
        if (!(percentile >= 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + percentile);
        }
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        if (!(epsilon >= 0) || epsilon == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("epsilon must be finite and >= 0, got " + epsilon);
        }
        this.percentile = percentile;
        this.epsilon = epsilon;
        this.history = new NormWindow(window);
    }

    /**
     * @param window how many recent norms the percentile is taken over, ≥ 1
     * @return a clipper with the same settings, that window and an empty history
     * @throws IllegalArgumentException if {@code window < 1}
     */
    public AutoClipper withWindow(int window) {
        return new AutoClipper(percentile, window, epsilon, nonFinitePolicy());
    }

    /**
     * @param epsilon 0 for the exact rule {@code τ/n}, or the ε of {@code τ/(n + ε)}: the original
     *                code calls PyTorch's {@code clip_grad_norm_}, which uses 1e-6
     * @return a clipper with the same settings, that ε and an empty history
     * @throws IllegalArgumentException if negative or not finite
     */
    public AutoClipper withEpsilon(double epsilon) {
        return new AutoClipper(percentile, history.capacity(), epsilon, nonFinitePolicy());
    }

    @Override
    public AutoClipper withNonFinitePolicy(NonFinitePolicy policy) {
        return new AutoClipper(percentile, history.capacity(), epsilon, policy);
    }

    /** @return the percentile p */
    public double percentile() {
        return percentile;
    }

    /** @return the window size */
    public int window() {
        return history.capacity();
    }

    /** @return how many norms the history holds */
    public int historySize() {
        return history.size();
    }

    @Override
    public String method() {
        return "autoclip";
    }

    @Override
    protected double normType() {
        return 2.0;
    }

    @Override
    protected ClipReport apply(Gradients g, double[] tensorNorms, NonFinite nonFinite) {
        double n = Norms.combine(tensorNorms, 2.0);
        if (Double.isFinite(n)) {
            history.add(n);
        }
        double tau = history.percentile(percentile);
        double coef = Double.isNaN(tau) ? (Double.isNaN(n) ? Double.NaN : 1.0) : coefficient(n, tau, epsilon);
        return scaleAllAndReport(g, n, coef, tau, tensorNorms, nonFinite);
    }

    @Override
    public byte[] saveState() {
        return new StateWriter(KIND, STATE_VERSION).writeInt(history.capacity()).writeDoubles(history.toArray())
                .toByteArray();
    }

    @Override
    public void restoreState(byte[] state) {
        StateReader r = new StateReader(state, KIND, STATE_VERSION);
        int window = r.readInt();
        double[] norms = r.readDoubles();
        r.finish();
        if (window != history.capacity() || norms == null) {
            throw new IllegalArgumentException("autoclip state has window " + window + " but this clipper keeps "
                    + history.capacity() + "; restore into a clipper with the same window");
        }
        history.setAll(norms);
    }

    @Override
    public String toString() {
        return "autoclip(p=" + percentile + ", window=" + history.capacity() + ", " + nonFinitePolicy() + ")";
    }
}
