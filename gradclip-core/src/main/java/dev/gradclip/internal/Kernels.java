package dev.gradclip.internal;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Chooses the kernels once, at class initialisation, as Lucene's {@code VectorizationProvider}
 * does: the SIMD kernels when the {@code jdk.incubator.vector} module is readable, otherwise the
 * scalar reference with one warning that names the JVM flag. The system property
 * {@value #PROPERTY} forces {@code scalar} or {@code simd}. Not public API.
 */
public final class Kernels {

    /** The system property that forces a kernel: {@code scalar} or {@code simd}. */
    public static final String PROPERTY = "gradclip.kernels";

    private static final String SIMD_CLASS = "dev.gradclip.internal.vector.SimdKernels";
    private static final FloatKernels CHOSEN = choose();

    private Kernels() {
    }

    /** @return the kernels chosen for this JVM */
    public static FloatKernels get() {
        return CHOSEN;
    }

    /** @return whether the vector module is readable in this JVM */
    public static boolean vectorModuleAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private static FloatKernels choose() {
        String forced = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        switch (forced) {
            case "scalar":
                return ScalarKernels.INSTANCE;
            case "simd":
                if (!vectorModuleAvailable()) {
                    throw new IllegalStateException("-D" + PROPERTY + "=simd needs the vector module:"
                            + " start the JVM with --add-modules=jdk.incubator.vector");
                }
                return loadSimd();
            case "":
                break;
            default:
                throw new IllegalStateException("-D" + PROPERTY + " must be 'scalar' or 'simd', got '"
                        + forced + "'");
        }
        if (vectorModuleAvailable()) {
            try {
                return loadSimd();
            } catch (RuntimeException | LinkageError e) {
                warn("gradclip: SIMD kernels failed to load (" + e + "); using scalar kernels");
                return ScalarKernels.INSTANCE;
            }
        }
        warn("gradclip: jdk.incubator.vector is not readable, using scalar kernels (about 4x slower);"
                + " start the JVM with --add-modules=jdk.incubator.vector for SIMD kernels");
        return ScalarKernels.INSTANCE;
    }

    private static FloatKernels loadSimd() {
        try {
            return (FloatKernels) Class.forName(SIMD_CLASS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load " + SIMD_CLASS, e);
        }
    }

    private static void warn(String message) {
        System.getLogger("dev.gradclip").log(Level.WARNING, message);
    }
}
