package dev.gradclip.optim;

import dev.gradclip.Schedule;

/**
 * Adam (Kingma and Ba, arXiv:1412.6980) and AdamW (Loshchilov and Hutter, "Decoupled Weight Decay
 * Regularization", arXiv:1711.05101), exactly as PyTorch's {@code torch.optim.Adam} and
 * {@code torch.optim.AdamW}.
 *
 * <p>Per element at step {@code t} (from 1), with {@code β1 = 0.9}, {@code β2 = 0.999},
 * {@code ε = 1e-8} by default:
 * <pre>
 *   AdamW:  θ ← θ − η·λ·θ                 (decoupled decay, λ = 0.01 by default)
 *   Adam:   g ← g + λ·θ                   (coupled L2 decay, λ = 0 by default)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   θ ← θ − η·m̂/(sqrt(v̂) + ε)      with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)
 * </pre>
 * State: {@code m} and {@code v}; the bias corrections come from the step counter.
 */
public final class Adam extends AbstractOptimizer {

    /** PyTorch's default learning rate for Adam and AdamW. */
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    /** PyTorch's default β1. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** PyTorch's default β2. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** PyTorch's default ε. */
    public static final double DEFAULT_EPSILON = 1e-8;
    /** PyTorch's default decoupled weight decay of AdamW. */
    public static final double DEFAULT_ADAMW_WEIGHT_DECAY = 0.01;

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final boolean decoupled;

    Adam(Schedule schedule, double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled) {
        super(schedule);
        this.beta1 = checkRange("beta1", beta1, 0.0, 1.0);
        this.beta2 = checkRange("beta2", beta2, 0.0, 1.0);
        this.epsilon = checkNonNegative("epsilon", epsilon);
        this.weightDecay = checkNonNegative("weightDecay", weightDecay);
        this.decoupled = decoupled;
    }

    /**
     * @param schedule the learning-rate schedule
     * @return an optimizer with the same settings, that schedule and fresh state
     */
    public Adam withSchedule(Schedule schedule) {
        return new Adam(schedule, beta1, beta2, epsilon, weightDecay, decoupled);
    }

    /**
     * @param beta1 decay of the first moment, in [0, 1)
     * @param beta2 decay of the second moment, in [0, 1)
     * @return an optimizer with the same settings, those betas and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public Adam withBetas(double beta1, double beta2) {
        return new Adam(schedule(), beta1, beta2, epsilon, weightDecay, decoupled);
    }

    /**
     * @param epsilon ε added to {@code sqrt(v̂)}, finite and ≥ 0
     * @return an optimizer with the same settings, that ε and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public Adam withEpsilon(double epsilon) {
        return new Adam(schedule(), beta1, beta2, epsilon, weightDecay, decoupled);
    }

    /**
     * @param weightDecay λ: decoupled for AdamW, coupled (L2, added to the gradient) for Adam; finite
     *                    and ≥ 0
     * @return an optimizer with the same settings, that decay and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public Adam withWeightDecay(double weightDecay) {
        return new Adam(schedule(), beta1, beta2, epsilon, weightDecay, decoupled);
    }

    /** @return whether the weight decay is decoupled (AdamW) */
    public boolean decoupled() {
        return decoupled;
    }

    /** @return λ */
    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String name() {
        return decoupled ? "adamw" : "adam";
    }

    @Override
    int slotCount() {
        return 2;
    }

    @Override
    void update(float[] p, float[] g, float c, float[][] s, double lr, long t) {
        float[] m = s[0];
        float[] v = s[1];
        double bias1 = 1 - Math.pow(beta1, t);
        double bias2 = Math.sqrt(1 - Math.pow(beta2, t));
        double stepSize = lr / bias1;
        double decay = decoupled ? 1 - lr * weightDecay : 1.0;
        double coupled = decoupled ? 0.0 : weightDecay;
        for (int i = 0; i < p.length; i++) {
            double pi = p[i];
            double gi = c * g[i] + coupled * pi;
            double mi = beta1 * m[i] + (1 - beta1) * gi;
            double vi = beta2 * v[i] + (1 - beta2) * gi * gi;
            m[i] = (float) mi;
            v[i] = (float) vi;
            p[i] = (float) (pi * decay - stepSize * mi / (Math.sqrt(vi) / bias2 + epsilon));
        }
    }
}
