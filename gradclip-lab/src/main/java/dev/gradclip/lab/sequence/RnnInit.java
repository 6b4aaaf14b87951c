package dev.gradclip.lab.sequence;

import java.util.Locale;
import java.util.Objects;
import java.util.Random;

/**
 * How the weights of the tanh RNN are initialised; biases always start at 0.
 *
 * <p>The initialisations of Pascanu et al. 2013 (arXiv:1211.5063):
 * <ul>
 *   <li>{@link #normal(double) normal(σ)}: every weight (input, recurrent, output) drawn from
 *       N(0, σ²); "sigmoid" is σ = 0.01, "basic tanh" σ = 0.1; σ = 0.3 makes the gradients explode
 *       (the demonstration of lab-tasks.md);</li>
 *   <li>{@link #smartTanh()}: input and output weights N(0, 0.01²); the recurrent matrix has 15
 *       non-zero N(0, 0.01²) entries per row (fewer when the hidden layer is smaller), rescaled so
 *       that its spectral radius is 0.95.</li>
 * </ul>
 * Values come from a {@link Random} seeded by the workload, so a seed reproduces them exactly on any
 * engine or device.
 */
public final class RnnInit {

    /** Non-zero entries per row of the smart-tanh recurrent matrix. */
    public static final int SMART_NON_ZEROS = 15;
    /** The spectral radius the smart-tanh recurrent matrix is rescaled to. */
    public static final double SMART_SPECTRAL_RADIUS = 0.95;

    private final double sigma;
    private final boolean smart;

    private RnnInit(double sigma, boolean smart) {
        this.sigma = sigma;
        this.smart = smart;
    }

    /**
     * @param sigma the standard deviation, finite and positive
     * @return all weights N(0, σ²), biases 0
     * @throws IllegalArgumentException if σ is not finite and positive
     */
    public static RnnInit normal(double sigma) {
        if (!(sigma > 0) || sigma == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("sigma must be finite and positive, got " + sigma);
        }
        return new RnnInit(sigma, false);
    }

    /** @return Pascanu et al.'s "smart tanh" initialisation */
    public static RnnInit smartTanh() {
        return new RnnInit(0.01, true);
    }

    /**
     * Parses {@code normal:SIGMA}, {@code sigmoid} (σ = 0.01), {@code basic-tanh} (σ = 0.1) or
     * {@code smart-tanh}.
     *
     * @param spec the text
     * @return the initialisation
     * @throws IllegalArgumentException if the text is none of these
     */
    public static RnnInit parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        String s = spec.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "sigmoid":
                return normal(0.01);
            case "basic-tanh":
                return normal(0.1);
            case "smart-tanh":
                return smartTanh();
            default:
                if (s.startsWith("normal:")) {
                    try {
                        return normal(Double.parseDouble(s.substring("normal:".length())));
                    } catch (NumberFormatException e) {
                        // reported below
                    }
                }
                throw new IllegalArgumentException("unknown init '" + spec
                        + "'; expected normal:SIGMA (e.g. normal:0.3), sigmoid, basic-tanh or smart-tanh");
        }
    }

    /** @return whether this is the smart-tanh initialisation */
    public boolean isSmartTanh() {
        return smart;
    }

    /** @return σ of the normal draws */
    public double sigma() {
        return sigma;
    }

    /**
     * Draws a {@code rows × cols} input or output weight matrix, row-major.
     *
     * @param rows   rows
     * @param cols   columns
     * @param random the source
     * @return the values
     */
    public float[] dense(int rows, int cols, Random random) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * sigma);
        }
        return w;
    }

    /**
     * Draws the {@code n × n} recurrent matrix, row-major.
     *
     * @param n      the hidden size
     * @param random the source
     * @return the values
     */
    public float[] recurrent(int n, Random random) {
        if (!smart) {
            return dense(n, n, random);
        }
        double[] w = new double[n * n];
        int nonZeros = Math.min(SMART_NON_ZEROS, n);
        int[] columns = new int[n];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                columns[c] = c;
            }
            // a partial Fisher-Yates shuffle picks the row's non-zero columns
            for (int k = 0; k < nonZeros; k++) {
                int j = k + random.nextInt(n - k);
                int tmp = columns[k];
                columns[k] = columns[j];
                columns[j] = tmp;
                w[r * n + columns[k]] = random.nextGaussian() * sigma;
            }
        }
        double radius = spectralRadius(w, n);
        double factor = radius > 0 ? SMART_SPECTRAL_RADIUS / radius : 1.0;
        float[] out = new float[n * n];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (w[i] * factor);
        }
        return out;
    }

    /**
     * The spectral radius by Gelfand's formula {@code ρ = lim ‖A^k‖^(1/k)}, with {@code k = 2^40}
     * reached by repeated squaring, renormalising at each squaring (the logarithm of the scale is kept)
     * so nothing overflows; works for complex eigenvalues, unlike power iteration.
     *
     * @param a the matrix, row-major
     * @param n its size
     * @return ρ(A), 0 for a nilpotent matrix
     */
    static double spectralRadius(double[] a, int n) {
        double[] m = a.clone();
        double logScale = 0;
        double s = frobenius(m);
        if (s == 0) {
            return 0;
        }
        scaleInPlace(m, 1 / s);
        logScale = Math.log(s);
        int squarings = 40;
        for (int k = 0; k < squarings; k++) {
            double[] sq = multiply(m, m, n);
            double norm = frobenius(sq);
            if (norm == 0) {
                return 0;
            }
            scaleInPlace(sq, 1 / norm);
            m = sq;
            // A^(2^(k+1)) = (e^logScale)^2 · norm · m
            logScale = 2 * logScale + Math.log(norm);
        }
        return Math.exp(logScale / Math.pow(2, squarings));
    }

    private static double[] multiply(double[] x, double[] y, int n) {
        double[] z = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double xik = x[i * n + k];
                if (xik == 0) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    z[i * n + j] += xik * y[k * n + j];
                }
            }
        }
        return z;
    }

    private static double frobenius(double[] m) {
        double s = 0;
        for (double v : m) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    private static void scaleInPlace(double[] m, double f) {
        for (int i = 0; i < m.length; i++) {
            m[i] *= f;
        }
    }

    @Override
    public String toString() {
        return smart ? "smart-tanh" : "normal:" + sigma;
    }
}
