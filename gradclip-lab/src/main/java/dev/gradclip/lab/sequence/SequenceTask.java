package dev.gradclip.lab.sequence;

import java.util.Objects;
import java.util.Random;

/**
 * The pathological long-range tasks of Pascanu, Mikolov and Bengio, "On the difficulty of training
 * recurrent neural networks" (ICML 2013, arXiv:1211.5063), generated as in their public code
 * ({@code addition.py}, {@code multiplication.py}, {@code tempOrder.py} of pascanur/trainingRNNs).
 *
 * <p>{@code randint(n)} is uniform on {@code {0, …, n−1}} ({@code 0} when {@code n ≤ 0}, where numpy
 * would refuse, so lengths below 10 still work). For a batch at nominal length {@code T}, the length
 * is {@code l = T + randint(⌊T/10⌋)}, drawn once per batch; positions are drawn per sequence.
 * <ul>
 *   <li>{@link #ADDING}: 2 channels; channel 1 is U(0,1) noise, channel 0 is 1 at
 *       {@code p0 = randint(⌊l/10⌋)} and {@code p1 = randint(⌊4l/10⌋) + ⌊l/10⌋}, else 0; the target is
 *       the <em>mean</em> {@code (x[p0] + x[p1]) / 2}. Predicting 0.5 gives MSE 1/24 ≈ 0.0417.</li>
 *   <li>{@link #MULTIPLICATION}: as adding, target {@code x[p0] · x[p1]}.</li>
 *   <li>{@link #TEMPORAL_ORDER}: 6 one-hot channels; noise symbols 2–5 uniform at every step; at
 *       {@code p0 = randint(⌊l/10⌋) + ⌊l/10⌋} symbol {@code v0 ∈ {0,1}}, at
 *       {@code p1 = randint(⌊l/10⌋) + ⌊5l/10⌋} symbol {@code v1 ∈ {0,1}}; the class is
 *       {@code v0 + 2·v1} of 4. Chance cross-entropy is ln 4 ≈ 1.386.</li>
 * </ul>
 * Success (the paper's criterion): fewer than 1% wrong on 10,000 fresh sequences, a regression
 * sample being wrong when its squared error exceeds {@value #WRONG_SQUARED_ERROR}.
 *
 * <p>Generation is a pure function of the {@link Random} given, so a seed reproduces the data.
 */
public enum SequenceTask {

    /** The adding problem: the mean of two marked numbers. */
    ADDING("adding", 2, 1) {
        @Override
        float target(float a, float b) {
            return (a + b) / 2f;
        }
    },
    /** The multiplication problem: the product of two marked numbers. */
    MULTIPLICATION("multiplication", 2, 1) {
        @Override
        float target(float a, float b) {
            return a * b;
        }
    },
    /** The temporal order problem: the order of two symbols among noise, 4 classes. */
    TEMPORAL_ORDER("temporal-order", 6, 4) {
        @Override
        float target(float a, float b) {
            throw new UnsupportedOperationException();
        }
    };

    /** A regression sample is wrong when its squared error exceeds this (the paper's criterion). */
    public static final double WRONG_SQUARED_ERROR = 0.04;

    private final String id;
    private final int channels;
    private final int outputs;

    SequenceTask(String id, int channels, int outputs) {
        this.id = id;
        this.channels = channels;
        this.outputs = outputs;
    }

    abstract float target(float a, float b);

    /** @return the task's name in specs and reports: {@code adding}, {@code multiplication}, {@code temporal-order} */
    public String id() {
        return id;
    }

    /** @return the number of input channels */
    public int inputChannels() {
        return channels;
    }

    /** @return the number of model outputs: 1 for regression, 4 classes for temporal order */
    public int outputs() {
        return outputs;
    }

    /** @return whether the task is a classification (cross-entropy loss) */
    public boolean isClassification() {
        return this == TEMPORAL_ORDER;
    }

    /**
     * @param id a task name as {@link #id()} gives it
     * @return the task
     * @throws IllegalArgumentException if no task has that name
     */
    public static SequenceTask fromId(String id) {
        for (SequenceTask t : values()) {
            if (t.id.equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown sequence task '" + id
                + "'; expected adding, multiplication or temporal-order");
    }

    /**
     * Draws one batch.
     *
     * @param batchSize the number of sequences, ≥ 1
     * @param length    the nominal length T, ≥ 2
     * @param random    the source of randomness
     * @return the batch, of length {@code T + randint(⌊T/10⌋)}
     * @throws IllegalArgumentException if {@code batchSize < 1} or {@code length < 2}
     */
    public SequenceBatch generate(int batchSize, int length, Random random) {
        Objects.requireNonNull(random, "random");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        if (length < 2) {
            throw new IllegalArgumentException("length must be >= 2, got " + length);
        }
        int l = length + randint(random, length / 10);
        float[] x = new float[batchSize * l * channels];
        float[] y = new float[batchSize];
        for (int s = 0; s < batchSize; s++) {
            int base = s * l * channels;
            if (this == TEMPORAL_ORDER) {
                for (int t = 0; t < l; t++) {
                    x[base + t * channels + 2 + randint(random, 4)] = 1f;
                }
                int p0 = randint(random, l / 10) + l / 10;
                int p1 = randint(random, l / 10) + 5 * l / 10;
                int v0 = randint(random, 2);
                int v1 = randint(random, 2);
                setSymbol(x, base + p0 * channels, v0);
                setSymbol(x, base + p1 * channels, v1);
                y[s] = v0 + 2 * v1;
            } else {
                for (int t = 0; t < l; t++) {
                    x[base + t * channels + 1] = random.nextFloat();
                }
                int p0 = randint(random, l / 10);
                int p1 = randint(random, 4 * l / 10) + l / 10;
                x[base + p0 * channels] = 1f;
                x[base + p1 * channels] = 1f;
                y[s] = target(x[base + p0 * channels + 1], x[base + p1 * channels + 1]);
            }
        }
        return new SequenceBatch(x, y, batchSize, l, channels);
    }

    private void setSymbol(float[] x, int offset, int symbol) {
        for (int c = 0; c < channels; c++) {
            x[offset + c] = c == symbol ? 1f : 0f;
        }
    }

    private static int randint(Random random, int n) {
        return n <= 0 ? 0 : random.nextInt(n);
    }
}
