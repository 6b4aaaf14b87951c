package dev.gradclip.internal;

import dev.gradclip.internal.vector.SimdKernels;

/**
 * Creates kernel implementations by name for tests that compare them in one JVM. The SIMD class is
 * referenced only inside {@link #simd()}, so test classes load when the vector module is absent.
 */
public final class KernelsUnderTest {

    private KernelsUnderTest() {
    }

    /** @return new SIMD kernels; call only when {@link Kernels#vectorModuleAvailable()} */
    public static FloatKernels simd() {
        return new SimdKernels();
    }

    /** @return the scalar reference */
    public static FloatKernels scalar() {
        return ScalarKernels.INSTANCE;
    }
}
