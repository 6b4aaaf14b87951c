package dev.gradclip.optim;

import dev.gradclip.Schedule;

/**
 * Stochastic gradient descent, plain, with heavy-ball momentum, or with Nesterov momentum, exactly as
 * PyTorch's {@code torch.optim.SGD}.
 *
 * <p>Per element, with learning rate {@code η}, momentum {@code μ}, dampening {@code d} and weight
 * decay {@code λ} (all 0 by default):
 * <pre>
 *   g ← g + λ·θ                                   (coupled L2 decay, when λ &gt; 0)
 *   μ = 0:      θ ← θ − η·g
 *   μ &gt; 0:      b ← g at the first step, else b ← μ·b + (1 − d)·g
 *               heavy ball:  θ ← θ − η·b
 *               Nesterov:    θ ← θ − η·(g + μ·b)
 * </pre>
 * Heavy ball: Polyak 1964; Nesterov in the form of Sutskever et al., "On the importance of
 * initialization and momentum in deep learning", ICML 2013. State: the buffer {@code b} when
 * {@code μ > 0}, none otherwise.
 */
public final class Sgd extends AbstractOptimizer {

    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final double weightDecay;

    Sgd(Schedule schedule, double momentum, double dampening, boolean nesterov, double weightDecay) {
        super(schedule);
        this.momentum = checkRange("momentum", momentum, 0.0, 1.0);
        if (!(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("dampening must be in [0, 1], got " + dampening);
        }
        this.dampening = dampening;
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                    + momentum + " and dampening " + dampening);
        }
        this.nesterov = nesterov;
        this.weightDecay = checkNonNegative("weightDecay", weightDecay);
    }

    /**
     * @param schedule the learning-rate schedule
     * @return an optimizer with the same settings, that schedule and fresh state
     */
    public Sgd withSchedule(Schedule schedule) {
        return new Sgd(schedule, momentum, dampening, nesterov, weightDecay);
    }

    /**
     * @param dampening {@code d} in {@code b ← μ·b + (1 − d)·g}, in [0, 1] (0 by default)
     * @return an optimizer with the same settings, that dampening and fresh state
     * @throws IllegalArgumentException if out of range, or not 0 with Nesterov momentum
     */
    public Sgd withDampening(double dampening) {
        return new Sgd(schedule(), momentum, dampening, nesterov, weightDecay);
    }

    /**
     * @param weightDecay the coupled L2 decay λ, added to the gradient as {@code λ·θ}, finite and ≥ 0
     * @return an optimizer with the same settings, that decay and fresh state
     * @throws IllegalArgumentException if negative or not finite
     */
    public Sgd withWeightDecay(double weightDecay) {
        return new Sgd(schedule(), momentum, dampening, nesterov, weightDecay);
    }

    /** @return the momentum μ (0 for plain SGD) */
    public double momentum() {
        return momentum;
    }

    /** @return whether the momentum is Nesterov's */
    public boolean nesterov() {
        return nesterov;
    }

    @Override
    public String name() {
        return nesterov ? "nesterov" : momentum > 0 ? "momentum" : "sgd";
    }

    @Override
    int slotCount() {
        return momentum > 0 ? 1 : 0;
    }

    @Override
    void update(float[] p, float[] g, float c, float[][] s, double lr, long t) {
        if (momentum == 0) {
            for (int i = 0; i < p.length; i++) {
                double gi = c * g[i] + weightDecay * p[i];
                p[i] = (float) (p[i] - lr * gi);
            }
            return;
        }
        float[] b = s[0];
        for (int i = 0; i < p.length; i++) {
            double gi = c * g[i] + weightDecay * p[i];
            double bi = t == 1 ? gi : momentum * b[i] + (1 - dampening) * gi;
            b[i] = (float) bi;
            double u = nesterov ? gi + momentum * bi : bi;
            p[i] = (float) (p[i] - lr * u);
        }
    }
}
