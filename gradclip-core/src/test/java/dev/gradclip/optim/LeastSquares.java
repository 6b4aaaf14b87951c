package dev.gradclip.optim;

import dev.gradclip.GradientSet;
import java.util.Random;

/**
 * A small deterministic training problem for composition tests: a linear layer {@code y = W·x + b}
 * ({@code W} 3×4, {@code b} 3) fitted by mean squared error to 16 fixed samples; the gradient of step
 * {@code k} uses a mini-batch chosen by {@code k} alone, so a run can be cut and resumed with no
 * random state. Optionally multiplies the gradient of chosen steps by 100 (a spike) or puts a NaN in
 * it.
 */
final class LeastSquares {

    static final int OUT = 3;
    static final int IN = 4;
    private static final int SAMPLES = 16;
    private static final int BATCH = 4;

    final float[] w = new float[OUT * IN];
    final float[] b = new float[OUT];
    final float[] gw = new float[OUT * IN];
    final float[] gb = new float[OUT];
    final GradientSet set;
    private final double[][] x = new double[SAMPLES][IN];
    private final double[][] y = new double[SAMPLES][OUT];

    LeastSquares() {
        Random r = new Random(42);
        double[][] a = new double[OUT][IN];
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                a[o][i] = r.nextGaussian();
            }
        }
        for (int s = 0; s < SAMPLES; s++) {
            for (int i = 0; i < IN; i++) {
                x[s][i] = r.nextGaussian();
            }
            for (int o = 0; o < OUT; o++) {
                double v = 0.5 * o;
                for (int i = 0; i < IN; i++) {
                    v += a[o][i] * x[s][i];
                }
                y[s][o] = v + 0.01 * r.nextGaussian();
            }
        }
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) (0.1 * r.nextGaussian());
        }
        set = GradientSet.builder()
                .add("fc.weight", gw, w, OUT, IN)
                .add("fc.bias", gb, b, OUT)
                .build();
    }

    /** @return the mean squared error over all samples */
    double loss() {
        double sum = 0;
        for (int s = 0; s < SAMPLES; s++) {
            for (int o = 0; o < OUT; o++) {
                double e = predict(s, o) - y[s][o];
                sum += e * e;
            }
        }
        return sum / SAMPLES;
    }

    private double predict(int s, int o) {
        double v = b[o];
        for (int i = 0; i < IN; i++) {
            v += w[o * IN + i] * x[s][i];
        }
        return v;
    }

    /**
     * Fills the gradient arrays for step k.
     *
     * @param k     the step
     * @param scale a factor on the gradient (100 for a spike)
     * @param nan   whether to plant a NaN
     */
    void gradients(long k, double scale, boolean nan) {
        java.util.Arrays.fill(gw, 0);
        java.util.Arrays.fill(gb, 0);
        double[] accW = new double[gw.length];
        double[] accB = new double[gb.length];
        for (int j = 0; j < BATCH; j++) {
            int s = (int) ((k * BATCH + j) % SAMPLES);
            for (int o = 0; o < OUT; o++) {
                double e = 2 * (predict(s, o) - y[s][o]) / BATCH;
                accB[o] += e;
                for (int i = 0; i < IN; i++) {
                    accW[o * IN + i] += e * x[s][i];
                }
            }
        }
        for (int k2 = 0; k2 < gw.length; k2++) {
            gw[k2] = (float) (accW[k2] * scale);
        }
        for (int o = 0; o < OUT; o++) {
            gb[o] = (float) (accB[o] * scale);
        }
        if (nan) {
            gw[5] = Float.NaN;
        }
    }

    /** @return a copy of all parameters, for bitwise comparison */
    float[] parameters() {
        float[] all = new float[w.length + b.length];
        System.arraycopy(w, 0, all, 0, w.length);
        System.arraycopy(b, 0, all, w.length, b.length);
        return all;
    }
}
