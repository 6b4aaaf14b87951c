package dev.gradclip.bench;

import dev.gradclip.GradientSet;
import java.util.SplittableRandom;

/**
 * The data every benchmark runs on, generated the same way in every fork so that results compare:
 * gradients and parameters uniform in {@code [-1, 1)} from a fixed seed, split into tensors of
 * whole rows of {@value #ROW} floats (so unit-wise methods such as AGC see {@code [rows, 1024]}
 * matrices).
 */
public final class Workloads {

    /** Columns of every tensor: a unit (row) of a {@code [rows, ROW]} weight. */
    public static final int ROW = 1024;

    private Workloads() {
    }

    /**
     * Splits {@code floats} elements into {@code tensors} parts of whole rows, as equal as rows allow;
     * the last part takes the remainder.
     *
     * @param floats  total elements, a positive multiple of {@value #ROW}
     * @param tensors number of parts, between 1 and {@code floats / ROW}
     * @return the part sizes, summing to {@code floats}
     * @throws IllegalArgumentException if the sizes cannot be split so
     */
    public static int[] split(int floats, int tensors) {
        if (floats <= 0 || floats % ROW != 0) {
            throw new IllegalArgumentException("floats must be a positive multiple of " + ROW + ", got " + floats);
        }
        int rows = floats / ROW;
        if (tensors < 1 || tensors > rows) {
            throw new IllegalArgumentException("tensors must be in [1, " + rows + "], got " + tensors);
        }
        int[] sizes = new int[tensors];
        int rowsEach = rows / tensors;
        for (int t = 0; t < tensors; t++) {
            int r = t == tensors - 1 ? rows - rowsEach * (tensors - 1) : rowsEach;
            sizes[t] = r * ROW;
        }
        return sizes;
    }

    /**
     * @param sizes the tensor sizes
     * @param seed  the random seed
     * @return arrays of those sizes, uniform in {@code [-1, 1)}
     */
    public static float[][] uniform(int[] sizes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] out = new float[sizes.length][];
        for (int t = 0; t < sizes.length; t++) {
            out[t] = uniform(sizes[t], random);
        }
        return out;
    }

    /**
     * @param n      length
     * @param random the source
     * @return an array uniform in {@code [-1, 1)}
     */
    public static float[] uniform(int n, SplittableRandom random) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (random.nextDouble() * 2.0 - 1.0);
        }
        return a;
    }

    /**
     * @param grads  gradient arrays
     * @param params parameter arrays of the same sizes, or {@code null}
     * @return a gradient set over the arrays (not copies): tensor {@code t} is {@code layer<t>.weight}
     *         with shape {@code [length / ROW, ROW]}
     */
    public static GradientSet gradientSet(float[][] grads, float[][] params) {
        GradientSet.Builder b = GradientSet.builder();
        for (int t = 0; t < grads.length; t++) {
            b.add("layer" + t + ".weight", grads[t], params == null ? null : params[t],
                    grads[t].length / ROW, ROW);
        }
        return b.build();
    }

    /**
     * Copies {@code from} into {@code to}, array by array.
     *
     * @param from the source arrays
     * @param to   the destination arrays, of the same sizes
     */
    public static void restore(float[][] from, float[][] to) {
        for (int t = 0; t < from.length; t++) {
            System.arraycopy(from[t], 0, to[t], 0, from[t].length);
        }
    }

    /**
     * @param arrays arrays
     * @return their total length
     */
    public static long totalLength(float[][] arrays) {
        long n = 0;
        for (float[] a : arrays) {
            n += a.length;
        }
        return n;
    }
}
