package dev.gradclip.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.GradientSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The kernels the library picks follow {@code -Dgradclip.kernels}: the build runs the suite once
 * with {@code simd} and once with {@code scalar}, and this test proves each run used the kernel it
 * claims, so neither run silently tests the other kernel.
 */
@Tag("kernels")
class KernelSelectionTest {

    @Test
    void chosenKernelFollowsTheSystemProperty() {
        String forced = System.getProperty(Kernels.PROPERTY, "");
        String expected = forced.isEmpty() ? (Kernels.vectorModuleAvailable() ? "simd" : "scalar") : forced;
        assertThat(Kernels.get().name()).isEqualTo(expected);
        assertThat(GradientSet.of(new float[] {1f}).kernelName()).isEqualTo(expected);
    }

    @Test
    void simdRunHasTheVectorModule() {
        if ("simd".equals(System.getProperty(Kernels.PROPERTY))) {
            assertThat(Kernels.vectorModuleAvailable()).isTrue();
            assertThat(Kernels.get()).isNotSameAs(ScalarKernels.INSTANCE);
        }
    }
}
