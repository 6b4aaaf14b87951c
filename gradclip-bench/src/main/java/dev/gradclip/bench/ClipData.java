package dev.gradclip.bench;

import dev.gradclip.GradientSet;
import dev.gradclip.internal.Kernels;

/**
 * The gradients one clipping benchmark works on, and the check that the fork runs the kernels the
 * result will be labelled with.
 */
final class ClipData {

    /** Seed of the gradients. */
    static final long GRADIENT_SEED = 11;
    /** Seed of the parameters (AGC). */
    static final long PARAMETER_SEED = 12;

    final float[][] grads;
    final float[][] params;
    final GradientSet set;

    private ClipData(float[][] grads, float[][] params) {
        this.grads = grads;
        this.params = params;
        this.set = Workloads.gradientSet(grads, params);
    }

    /**
     * @param floats         total elements
     * @param tensors        number of tensors
     * @param withParameters whether to create parameter values too
     * @param kernel         the kernel name the results will carry
     * @return the data
     * @throws IllegalStateException if this JVM does not run {@code kernel}
     */
    static ClipData create(int floats, int tensors, boolean withParameters, String kernel) {
        requireKernel(kernel);
        int[] sizes = Workloads.split(floats, tensors);
        float[][] grads = Workloads.uniform(sizes, GRADIENT_SEED);
        float[][] params = withParameters ? Workloads.uniform(sizes, PARAMETER_SEED) : null;
        return new ClipData(grads, params);
    }

    /**
     * @param kernel the kernel name a result will be labelled with
     * @throws IllegalStateException if the kernels chosen in this JVM have another name
     */
    static void requireKernel(String kernel) {
        String actual = Kernels.get().name();
        if (!actual.equals(kernel)) {
            throw new IllegalStateException("this fork runs the " + actual + " kernels but the benchmark is labelled '"
                    + kernel + "'; start it with -D" + Kernels.PROPERTY + "=" + kernel);
        }
    }

    /**
     * @param arrays arrays
     * @return deep copies
     */
    static float[][] copy(float[][] arrays) {
        float[][] out = new float[arrays.length][];
        for (int t = 0; t < arrays.length; t++) {
            out[t] = arrays[t].clone();
        }
        return out;
    }
}
