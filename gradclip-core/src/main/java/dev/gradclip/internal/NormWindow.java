package dev.gradclip.internal;

import java.util.Arrays;

/**
 * The last {@code capacity} finite norms, kept both in arrival order (a ring, for eviction and
 * saving) and sorted (for percentiles in {@code O(log n)} search plus one {@code arraycopy} per
 * insertion, instead of a sort per step). Used by AutoClip and the spike guard. Not public API.
 */
public final class NormWindow {

    private final double[] ring;
    private final double[] sorted;
    private int size;
    private int head;

    /**
     * @param capacity how many norms to keep, ≥ 1
     */
    public NormWindow(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + capacity);
        }
        ring = new double[capacity];
        sorted = new double[capacity];
    }

    /** @return the capacity */
    public int capacity() {
        return ring.length;
    }

    /** @return how many norms are held */
    public int size() {
        return size;
    }

    /**
     * Adds a norm, evicting the oldest when full.
     *
     * @param norm a finite norm
     */
    public void add(double norm) {
        if (size == ring.length) {
            double oldest = ring[head];
            int at = Arrays.binarySearch(sorted, 0, size, oldest);
            System.arraycopy(sorted, at + 1, sorted, at, size - at - 1);
            size--;
            ring[head] = norm;
            head = (head + 1) % ring.length;
        } else {
            ring[(head + size) % ring.length] = norm;
        }
        int at = Arrays.binarySearch(sorted, 0, size, norm);
        if (at < 0) {
            at = -at - 1;
        }
        System.arraycopy(sorted, at, sorted, at + 1, size - at);
        sorted[at] = norm;
        size++;
    }

    /**
     * The q-th percentile with numpy's default ("linear") method: with the values sorted,
     * {@code h = (n − 1)·q/100}, {@code i = floor(h)}, {@code γ = h − i}, the result is
     * {@code lerp(x[i], x[i+1], γ)} computed as numpy's {@code _lerp} does
     * ({@code a + (b − a)·γ} for {@code γ < 0.5}, {@code b − (b − a)·(1 − γ)} otherwise).
     *
     * @param q the percentile, in [0, 100]
     * @return the percentile, or NaN if the window is empty
     */
    public double percentile(double q) {
        return percentile(sorted, size, q);
    }

    /**
     * numpy's linear percentile of the first {@code n} values of a sorted array.
     *
     * @param sorted values in ascending order
     * @param n      how many to use
     * @param q      the percentile, in [0, 100]
     * @return the percentile, or NaN if {@code n = 0}
     */
    public static double percentile(double[] sorted, int n, double q) {
        if (n == 0) {
            return Double.NaN;
        }
        double h = (n - 1) * (q / 100.0);
        int i = (int) Math.floor(h);
        int j = Math.min(i + 1, n - 1);
        double gamma = h - i;
        double a = sorted[i];
        double b = sorted[j];
        double diff = b - a;
        return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
    }

    /** @return the arithmetic mean of the held norms (NaN if empty), summed in arrival order */
    public double mean() {
        double s = 0;
        for (int k = 0; k < size; k++) {
            s += ring[(head + k) % ring.length];
        }
        return s / size;
    }

    /**
     * @param mean the mean, from {@link #mean()}
     * @return the population standard deviation of the held norms
     */
    public double standardDeviation(double mean) {
        double s = 0;
        for (int k = 0; k < size; k++) {
            double d = ring[(head + k) % ring.length] - mean;
            s += d * d;
        }
        return Math.sqrt(s / size);
    }

    /** @return the held norms, oldest first */
    public double[] toArray() {
        double[] out = new double[size];
        for (int k = 0; k < size; k++) {
            out[k] = ring[(head + k) % ring.length];
        }
        return out;
    }

    /** Forgets every norm. */
    public void clear() {
        size = 0;
        head = 0;
    }

    /**
     * Replaces the content with the given norms (as if added in order after {@link #clear()}).
     *
     * @param norms finite norms, oldest first, at most {@link #capacity()}
     * @throws IllegalArgumentException if there are too many or one is not finite
     */
    public void setAll(double[] norms) {
        if (norms.length > ring.length) {
            throw new IllegalArgumentException("state holds " + norms.length + " norms but the window keeps "
                    + ring.length + "; restore into a clipper with the same window");
        }
        for (double n : norms) {
            if (!Double.isFinite(n)) {
                throw new IllegalArgumentException("state is corrupt: a held norm is " + n);
            }
        }
        clear();
        for (double n : norms) {
            add(n);
        }
    }
}
