package dev.gradclip.bench;

import java.util.Map;

/**
 * One row of the bench command: a JMH benchmark method with fixed parameters, run in its own fork,
 * and how many bytes one call moves.
 *
 * @param name          the row's name in the table and the JSON
 * @param benchmark     the benchmark method, {@code SimpleClassName.method}
 * @param params        the JMH parameters, all fixed to one value
 * @param floats        elements per call
 * @param tensors       number of tensors
 * @param kernel        {@code simd}, {@code scalar}, or the backend for rows outside gradclip-core
 * @param bytesPerFloat bytes one call moves per element (4 for a read pass, 8 for a read and write)
 * @param jvmArgs       arguments of the forked JVM
 */
record BenchCase(String name, String benchmark, Map<String, String> params, long floats, int tensors,
        String kernel, int bytesPerFloat, java.util.List<String> jvmArgs) {

    /** @return the bytes one call moves */
    double bytes() {
        return (double) floats * bytesPerFloat;
    }
}
