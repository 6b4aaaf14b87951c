package dev.gradclip.optim;

import dev.gradclip.Schedule;

/**
 * Factories for every optimizer, with PyTorch's defaults. Each takes a constant learning rate or a
 * {@link Schedule}; the other settings are changed with the returned class's {@code with…} methods
 * (each returns a new optimizer with fresh state).
 *
 * <pre>{@code
 * Optimizer sgd = Optimizers.sgd(0.1);
 * Optimizer heavyBall = Optimizers.momentum(0.01, 0.9);
 * Optimizer rms = Optimizers.rmsProp(1e-3).withCentered(true).withMomentum(0.9);
 * Optimizer adamw = Optimizers.adamW(Schedule.cosine(3e-4, 10_000, 0).withLinearWarmup(500));
 * }</pre>
 */
public final class Optimizers {

    private Optimizers() {
    }

    /**
     * Plain SGD, {@code θ ← θ − η·g}. See {@link Sgd}.
     *
     * @param learningRate η, finite and ≥ 0
     * @return the optimizer
     * @throws IllegalArgumentException if η is negative or not finite
     */
    public static Sgd sgd(double learningRate) {
        return sgd(AbstractOptimizer.constantRate(learningRate));
    }

    /**
     * Plain SGD on a learning-rate schedule. See {@link Sgd}.
     *
     * @param learningRate the schedule
     * @return the optimizer
     */
    public static Sgd sgd(Schedule learningRate) {
        return new Sgd(learningRate, 0.0, 0.0, false, 0.0);
    }

    /**
     * SGD with heavy-ball momentum, {@code b ← μ·b + g; θ ← θ − η·b}. See {@link Sgd}.
     *
     * @param learningRate η, finite and ≥ 0
     * @param momentum     μ in [0, 1) (0.9 is usual)
     * @return the optimizer
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static Sgd momentum(double learningRate, double momentum) {
        return new Sgd(AbstractOptimizer.constantRate(learningRate), momentum, 0.0, false, 0.0);
    }

    /**
     * SGD with Nesterov momentum, {@code b ← μ·b + g; θ ← θ − η·(g + μ·b)}. See {@link Sgd}.
     *
     * @param learningRate η, finite and ≥ 0
     * @param momentum     μ in (0, 1)
     * @return the optimizer
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static Sgd nesterov(double learningRate, double momentum) {
        return new Sgd(AbstractOptimizer.constantRate(learningRate), momentum, 0.0, true, 0.0);
    }

    /**
     * RMSprop with PyTorch's defaults (α = 0.99, ε = 1e-8, no momentum, not centered). See
     * {@link RmsProp}.
     *
     * @param learningRate η, finite and ≥ 0 (PyTorch: 1e-2)
     * @return the optimizer
     * @throws IllegalArgumentException if η is negative or not finite
     */
    public static RmsProp rmsProp(double learningRate) {
        return new RmsProp(AbstractOptimizer.constantRate(learningRate), RmsProp.DEFAULT_ALPHA,
                RmsProp.DEFAULT_EPSILON, 0.0, false, 0.0);
    }

    /**
     * Adam with PyTorch's defaults (β1 = 0.9, β2 = 0.999, ε = 1e-8, no weight decay). See
     * {@link Adam}.
     *
     * @param learningRate η, finite and ≥ 0 (PyTorch: 1e-3)
     * @return the optimizer
     * @throws IllegalArgumentException if η is negative or not finite
     */
    public static Adam adam(double learningRate) {
        return adam(AbstractOptimizer.constantRate(learningRate));
    }

    /**
     * Adam on a learning-rate schedule. See {@link Adam}.
     *
     * @param learningRate the schedule
     * @return the optimizer
     */
    public static Adam adam(Schedule learningRate) {
        return new Adam(learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPSILON, 0.0, false);
    }

    /**
     * AdamW with PyTorch's defaults (β1 = 0.9, β2 = 0.999, ε = 1e-8, decoupled decay λ = 0.01). See
     * {@link Adam}.
     *
     * @param learningRate η, finite and ≥ 0 (PyTorch: 1e-3)
     * @return the optimizer
     * @throws IllegalArgumentException if η is negative or not finite
     */
    public static Adam adamW(double learningRate) {
        return adamW(AbstractOptimizer.constantRate(learningRate));
    }

    /**
     * AdamW on a learning-rate schedule. See {@link Adam}.
     *
     * @param learningRate the schedule
     * @return the optimizer
     */
    public static Adam adamW(Schedule learningRate) {
        return new Adam(learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPSILON,
                Adam.DEFAULT_ADAMW_WEIGHT_DECAY, true);
    }
}
