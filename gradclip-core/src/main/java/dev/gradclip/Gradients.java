package dev.gradclip;

/**
 * The gradients of one training step, seen through the few primitives a clipper needs.
 *
 * <p>Every clipper's decision logic (thresholds, statistics, warm-up, skipping, the non-finite
 * policy) is written once against this interface; a backend supplies only the primitives, over the
 * memory where the gradients live. {@link GradientSet} is the backend for {@code float[]} arrays;
 * the {@code gradclip-djl} module supplies one for DJL {@code NDArray}s that never copies a tensor
 * to the Java heap.
 *
 * <p>Conventions shared by all primitives:
 * <ul>
 *   <li>tensors are numbered {@code 0 .. tensorCount()-1};</li>
 *   <li>a tensor's elements are in row-major order; a <em>unit</em> (for unit-wise methods such as
 *       AGC) is one slice along the first axis (one output row of a {@code [out, in]} weight, one
 *       filter of a {@code [out, in, kh, kw]} convolution); a tensor of rank 0 or 1 is one unit;</li>
 *   <li>norms are accumulated in {@code double} and never overflow for finite {@code float} input;
 *       a tensor holding NaN has a NaN norm, one holding an infinity (and no NaN) an infinite norm;
 *       an empty tensor has norm 0;</li>
 *   <li>scaling multiplies every element by the {@code float} nearest the given factor, as the
 *       frameworks do with a {@code float32} coefficient; a factor outside the normal float range
 *       is applied as a float times exact powers of two, so that a finite gradient times a finite
 *       factor is never NaN and is infinite only where the true product exceeds the float range:
 *       a factor below the smallest normal float (1.18e-38, a huge norm clipped to a small
 *       threshold) keeps its full precision and never rounds finite gradients to 0, and one above
 *       the largest float (3.4e38, a tiny norm renormalized to 1) does not round to infinity.</li>
 * </ul>
 */
public interface Gradients {

    /** @return the number of tensors */
    int tensorCount();

    /**
     * @param tensor tensor number
     * @return the tensor's name, unique within this set
     */
    String name(int tensor);

    /**
     * The group (layer) a tensor belongs to, used by per-group clipping (DL4J's
     * {@code ClipL2PerLayer}). Tensors of one layer (weight and bias) share a group.
     *
     * @param tensor tensor number
     * @return the group name
     */
    String group(int tensor);

    /**
     * @param tensor tensor number
     * @return a copy of the tensor's shape (empty for a scalar)
     */
    long[] shape(int tensor);

    /**
     * @param tensor tensor number
     * @return the number of elements (the product of the shape)
     */
    long size(int tensor);

    /**
     * @param tensor tensor number
     * @return whether the parameter values of this tensor are available (needed by AGC)
     */
    boolean hasParameter(int tensor);

    /**
     * Computes the p-norm of every tensor: {@code (Σ|g_i|^p)^(1/p)}, or {@code max|g_i|} for
     * {@code p = ∞}. NaN if the tensor holds NaN, +∞ if it holds an infinity and no NaN, 0 if empty.
     *
     * @param p   norm type: 1, 2, any finite value ≥ 1, or {@link Double#POSITIVE_INFINITY}
     * @param out receives one norm per tensor; length at least {@link #tensorCount()}
     */
    void norms(double p, double[] out);

    /**
     * @param tensor tensor number
     * @return the number of NaN and infinite elements of the tensor
     */
    long nonFiniteCount(int tensor);

    /**
     * @param tensor tensor number
     * @return the flat index of the first NaN or infinite element, or -1 if there is none
     */
    long firstNonFinite(int tensor);

    /**
     * @param tensor tensor number
     * @param index  flat element index
     * @return the element's value (used to describe a non-finite element in an error)
     */
    float get(int tensor, long index);

    /**
     * Writes one gradient element. Clippers never call it; it exists for fault injection
     * ({@code dev.gradclip.faults.FaultInjector} puts a NaN or an infinity into one element) and for
     * tests, and costs one small write on every backend.
     *
     * @param tensor tensor number
     * @param index  flat (row-major) element index, {@code 0 ≤ index < size(tensor)}
     * @param value  the value to store, NaN and infinities included
     * @throws IndexOutOfBoundsException if {@code tensor} or {@code index} is out of range
     */
    void set(int tensor, long index, float value);

    /**
     * Replaces every NaN and infinite element of the tensor with 0; finite elements are unchanged.
     *
     * @param tensor tensor number
     * @return the number of elements replaced
     */
    long zeroNonFinite(int tensor);

    /**
     * Multiplies every element of the tensor by {@code factor} as a float (see the conventions
     * above for factors outside the normal float range).
     *
     * @param tensor tensor number
     * @param factor the factor
     */
    void scale(int tensor, double factor);

    /**
     * Clamps every element to {@code [-limit, limit]}, keeping its sign; NaN stays NaN.
     *
     * @param tensor tensor number
     * @param limit  the bound, finite and positive
     * @return the number of elements changed
     */
    long clamp(int tensor, double limit);

    /**
     * Clamps as {@link #clamp(int, double)} and, where the backend can in the same pass, measures the
     * L2 norm of the clamped tensor, so that value clipping reads the gradient once after its norm
     * pass instead of twice. The default clamps and measures nothing.
     *
     * @param tensor    tensor number
     * @param limit     the bound, finite and positive
     * @param normAfter receives at index {@code tensor} the L2 norm of the tensor after clamping, or
     *                  NaN when it was not measured (or is NaN); the caller then measures with
     *                  {@link #norms(double, double[])}
     * @return the number of elements changed
     */
    default long clampAndMeasure(int tensor, double limit, double[] normAfter) {
        normAfter[tensor] = Double.NaN;
        return clamp(tensor, limit);
    }

    /**
     * Whether this backend implements {@link #clampInOnePass}; value clipping under the
     * {@code PROPAGATE} and {@code ZERO} policies then reads and writes each gradient once. The
     * default is {@code false}.
     *
     * @return whether {@link #clampInOnePass} may be called
     */
    default boolean clampsInOnePass() {
        return false;
    }

    /**
     * Value clipping of every tensor in a single read-and-write pass: for every element, in order,
     * count it if it is NaN or infinite (and, with {@code zeroNonFinite}, replace it by 0), add its
     * square to the sum before, clamp it to {@code [-limit, limit]} (NaN stays NaN, ±∞ becomes
     * ±limit), and add the square of the result to the sum after. The pass writes before it has
     * seen the last element, so it cannot honour "leave the gradients untouched" when a non-finite
     * element appears late: the {@code THROW} and {@code SKIP} policies do not use it.
     *
     * @param limit         the bound, finite and positive
     * @param zeroNonFinite whether NaN and infinite elements are replaced by 0 first
     * @return one result per tensor: the sums of squares before and after, the elements changed and
     *         the non-finite ones
     * @throws UnsupportedOperationException if {@link #clampsInOnePass()} is {@code false}
     */
    default ClampResult[] clampInOnePass(double limit, boolean zeroNonFinite) {
        throw new UnsupportedOperationException(getClass().getName() + " does not clamp in one pass");
    }

    /**
     * Multiplies every element of every tensor by {@code factor}, as {@link #scale(int, double)} does
     * tensor by tensor (the default); a backend may do it as one batch, e.g. in parallel.
     *
     * @param factor the factor
     */
    default void scaleAll(double factor) {
        for (int t = 0; t < tensorCount(); t++) {
            scale(t, factor);
        }
    }

    /**
     * @param tensor tensor number
     * @return the number of units (the first dimension for rank ≥ 2, otherwise 1)
     */
    int unitCount(int tensor);

    /**
     * Computes the L2 norm of every unit of a tensor's gradient or of its parameter.
     *
     * @param tensor    tensor number
     * @param parameter {@code true} for the parameter values, {@code false} for the gradient
     * @param out       receives {@link #unitCount(int)} norms
     * @throws IllegalStateException if {@code parameter} is set and {@link #hasParameter(int)} is not
     */
    void unitNorms(int tensor, boolean parameter, double[] out);

    /**
     * Multiplies the elements of each unit {@code u} of the tensor's gradient by
     * {@code factors[u]} as {@link #scale(int, double)} does (factors outside the normal float range
     * included); units whose factor is exactly 1 are not written.
     *
     * @param tensor  tensor number
     * @param factors one factor per unit
     */
    void scaleUnits(int tensor, double[] factors);
}
