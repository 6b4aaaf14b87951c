package dev.gradclip.optim;

import dev.gradclip.Schedule;

/**
 * RMSprop (Hinton, Coursera lecture 6e, 2012; centered form: Graves, "Generating Sequences With
 * Recurrent Neural Networks", arXiv:1308.0850), exactly as PyTorch's {@code torch.optim.RMSprop}.
 *
 * <p>Per element, with learning rate {@code η}, smoothing {@code α = 0.99}, {@code ε = 1e-8},
 * momentum {@code μ = 0} and weight decay {@code λ = 0} by default:
 * <pre>
 *   g ← g + λ·θ
 *   v ← α·v + (1 − α)·g²
 *   centered:   a ← α·a + (1 − α)·g;   D = sqrt(v − a²) + ε       otherwise  D = sqrt(v) + ε
 *   μ = 0:      θ ← θ − η·g/D
 *   μ &gt; 0:      b ← μ·b + g/D;   θ ← θ − η·b
 * </pre>
 * State: {@code v}, plus {@code a} when centered, plus {@code b} with momentum.
 */
public final class RmsProp extends AbstractOptimizer {

    /** PyTorch's default learning rate for RMSprop. */
    public static final double DEFAULT_LEARNING_RATE = 1e-2;
    /** PyTorch's default smoothing constant α. */
    public static final double DEFAULT_ALPHA = 0.99;
    /** PyTorch's default ε. */
    public static final double DEFAULT_EPSILON = 1e-8;

    private final double alpha;
    private final double epsilon;
    private final double momentum;
    private final boolean centered;
    private final double weightDecay;

    RmsProp(Schedule schedule, double alpha, double epsilon, double momentum, boolean centered, double weightDecay) {
        super(schedule);
        this.alpha = checkRange("alpha", alpha, 0.0, 1.0);
        this.epsilon = checkNonNegative("epsilon", epsilon);
        this.momentum = checkRange("momentum", momentum, 0.0, 1.0);
        this.centered = centered;
        this.weightDecay = checkNonNegative("weightDecay", weightDecay);
    }

    /**
     * @param schedule the learning-rate schedule
     * @return an optimizer with the same settings, that schedule and fresh state
     */
    public RmsProp withSchedule(Schedule schedule) {
        return new RmsProp(schedule, alpha, epsilon, momentum, centered, weightDecay);
    }

    /**
     * @param alpha the smoothing constant α of the squared-gradient average, in [0, 1)
     * @return an optimizer with the same settings, that α and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public RmsProp withAlpha(double alpha) {
        return new RmsProp(schedule(), alpha, epsilon, momentum, centered, weightDecay);
    }

    /**
     * @param epsilon ε added to the root mean square, finite and ≥ 0
     * @return an optimizer with the same settings, that ε and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public RmsProp withEpsilon(double epsilon) {
        return new RmsProp(schedule(), alpha, epsilon, momentum, centered, weightDecay);
    }

    /**
     * @param momentum μ of the momentum buffer over the normalised gradient, in [0, 1)
     * @return an optimizer with the same settings, that momentum and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public RmsProp withMomentum(double momentum) {
        return new RmsProp(schedule(), alpha, epsilon, momentum, centered, weightDecay);
    }

    /**
     * @param centered whether to normalise by the variance estimate {@code v − a²} instead of the raw
     *                 second moment (Graves 2013)
     * @return an optimizer with the same settings, that choice and fresh state
     */
    public RmsProp withCentered(boolean centered) {
        return new RmsProp(schedule(), alpha, epsilon, momentum, centered, weightDecay);
    }

    /**
     * @param weightDecay the coupled L2 decay λ, finite and ≥ 0
     * @return an optimizer with the same settings, that decay and fresh state
     * @throws IllegalArgumentException if out of range
     */
    public RmsProp withWeightDecay(double weightDecay) {
        return new RmsProp(schedule(), alpha, epsilon, momentum, centered, weightDecay);
    }

    @Override
    public String name() {
        return "rmsprop";
    }

    @Override
    int slotCount() {
        return 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0);
    }

    @Override
    void update(float[] p, float[] g, float c, float[][] s, double lr, long t) {
        float[] v = s[0];
        float[] a = centered ? s[1] : null;
        float[] b = momentum > 0 ? s[centered ? 2 : 1] : null;
        for (int i = 0; i < p.length; i++) {
            double gi = c * g[i] + weightDecay * p[i];
            double vi = alpha * v[i] + (1 - alpha) * gi * gi;
            v[i] = (float) vi;
            double d;
            if (centered) {
                double ai = alpha * a[i] + (1 - alpha) * gi;
                a[i] = (float) ai;
                // rounding can push the variance estimate a hair below 0; PyTorch would return NaN there
                d = Math.sqrt(Math.max(0.0, vi - ai * ai)) + epsilon;
            } else {
                d = Math.sqrt(vi) + epsilon;
            }
            double u = gi / d;
            if (b != null) {
                u = momentum * b[i] + u;
                b[i] = (float) u;
            }
            p[i] = (float) (p[i] - lr * u);
        }
    }
}
