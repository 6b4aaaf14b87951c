package dev.gradclip.examples;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.optim.Optimizers;
import dev.gradclip.optim.TrainingStep;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The seed example: minimise {@code J(x) = x²} (gradient {@code 2x}) by gradient descent with value
 * clipping, and show what clipping does to a huge start with a large step.
 *
 * <p>From {@code x0 = 1}, {@code η = 0.1}, clipping at {@code c = 1}: the gradient {@code 2x} is
 * clamped to 1 while {@code 2x > 1}, so {@code x} goes 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, after which the
 * gradient is left alone and {@code x ← x − 0.1·2x = 0.8·x}.
 *
 * <p>From {@code x0 = 1e6} with {@code η = 1.5}: unclipped descent multiplies {@code x} by
 * {@code 1 − 2η = −2} at every step and overflows ({@code -Infinity} at iteration 109, NaN after);
 * clipped descent moves by exactly {@code η·c} towards the minimum at every step, reaches
 * {@code |x| ≤ η·c} after 666,666 steps and stays there. (With a constant {@code η > 1} no
 * gradient method settles exactly at 0, since near the minimum the unclipped update itself is
 * unstable; clipping turns divergence into a bounded orbit around the minimum. A decaying learning
 * rate then brings it to 0.)
 *
 * <p>Run it (it is in the test sources, not in the library jar) with
 * {@code java -cp gradclip-core/target/classes:gradclip-core/target/test-classes dev.gradclip.examples.QuadraticExample}.
 */
public final class QuadraticExample {

    private QuadraticExample() {
    }

    /**
     * Runs gradient steps on {@code J(x) = x²}, with {@code x} held as a {@code float} parameter.
     *
     * @param x0         the start
     * @param step       the clipper and optimizer to use (fresh, or in the state to continue from)
     * @param iterations how many steps, ≥ 0
     * @return {@code x} before the first step and after each step: {@code iterations + 1} values
     */
    public static double[] trajectory(double x0, TrainingStep step, int iterations) {
        if (iterations < 0) {
            throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
        }
        float[] x = {(float) x0};
        float[] grad = new float[1];
        GradientSet set = GradientSet.builder().add("x", grad, x).build();
        double[] out = new double[iterations + 1];
        out[0] = x[0];
        for (int i = 1; i <= iterations; i++) {
            grad[0] = 2 * x[0];
            step.update(set);
            out[i] = x[0];
        }
        return out;
    }

    /**
     * Gradient descent with value clipping, as in the seed: SGD at {@code learningRate}, clipping the
     * gradient to {@code [-clipValue, clipValue]}.
     *
     * @param learningRate η
     * @param clipValue    c, or {@code Double.NaN} for no clipping (non-finite values then flow on,
     *                     as in an unguarded framework)
     * @return the training step
     */
    public static TrainingStep gradientDescent(double learningRate, double clipValue) {
        Clipper clipper = Double.isNaN(clipValue)
                ? Clippers.none().withNonFinitePolicy(NonFinitePolicy.PROPAGATE)
                : Clippers.value(clipValue);
        return TrainingStep.of(clipper, Optimizers.sgd(learningRate));
    }

    /**
     * Prints every {@code every}-th value of a trajectory as {@code iteration  x}.
     *
     * @param out   where to print
     * @param title a heading
     * @param xs    the trajectory
     * @param every the printing interval
     */
    public static void print(PrintStream out, String title, double[] xs, int every) {
        out.println(title);
        for (int i = 0; i < xs.length; i += every) {
            out.printf(Locale.ROOT, "  %4d  %.6g%n", i, xs[i]);
        }
    }

    /**
     * Prints the three runs.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        PrintStream out = System.out;
        print(out, "J(x) = x^2, x0 = 1, SGD eta = 0.1, value clipping c = 1",
                trajectory(1.0, gradientDescent(0.1, 1.0), 100), 10);
        print(out, "x0 = 1e6, eta = 1.5, no clipping (x <- -2x: diverges)",
                trajectory(1e6, gradientDescent(1.5, Double.NaN), 100), 10);
        print(out, "x0 = 1e6, eta = 1.5, value clipping c = 1 (moves by eta*c = 1.5 per step)",
                trajectory(1e6, gradientDescent(1.5, 1.0), 100), 10);
        double[] free = trajectory(1e6, gradientDescent(1.5, Double.NaN), 120);
        int overflow = 0;
        while (overflow < free.length && Double.isFinite(free[overflow])) {
            overflow++;
        }
        out.printf(Locale.ROOT, "unclipped: x = %s at iteration %d, %s at %d%n", free[overflow], overflow,
                free[overflow + 1], overflow + 1);
        int steps = 700_000;
        double[] clipped = trajectory(1e6, gradientDescent(1.5, 1.0), steps);
        int arrived = 0;
        while (Math.abs(clipped[arrived]) > 1.5) {
            arrived++;
        }
        double worst = 0;
        for (int i = arrived; i <= steps; i++) {
            worst = Math.max(worst, Math.abs(clipped[i]));
        }
        out.printf(Locale.ROOT, "clipped: |x| <= eta*c = 1.5 from iteration %d on (largest |x| after: %.4g)%n",
                arrived, worst);
    }
}
