package dev.gradclip.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which benchmarks the bench command runs, with which parameters, in which order. The full plan
 * covers issue 6's list (bandwidth, global-norm clip of 1M/16M/64M floats in one and 200 tensors
 * on both kernels, the under-threshold step, value clip, AGC, gradclip's DJL backend and the
 * libtorch-ops peer, which {@link BenchMain} measures paired in one JVM, see {@link DjlPairedMain}); the
 * quick plan a subset; the smoke plan the shape of the array rows on tiny data, in process, for
 * tests.
 */
final class BenchPlan {

    /** 2^20 floats. */
    static final int M1 = 1 << 20;
    /** 2^24 floats. */
    static final int M16 = 1 << 24;
    /** 2^26 floats. */
    static final int M64 = 1 << 26;
    /** 2^28 floats (1 GiB): the streaming read, well above the L3 cache. */
    static final int M256 = 1 << 28;

    /** How long and how often each row is measured. */
    enum Mode {
        /** The representative subset, about two minutes. */
        FULL(2, 6),
        /** A smaller subset, well under a minute. */
        QUICK(2, 5),
        /** Tiny data, one short iteration, no fork: checks the shape only. */
        SMOKE(0, 1);

        final int warmupIterations;
        final int measurementIterations;

        Mode(int warmupIterations, int measurementIterations) {
            this.warmupIterations = warmupIterations;
            this.measurementIterations = measurementIterations;
        }
    }

    private final Mode mode;
    private final String inProcessKernel;
    private final List<BenchCase> cases = new ArrayList<>();

    private BenchPlan(Mode mode, String inProcessKernel) {
        this.mode = mode;
        this.inProcessKernel = inProcessKernel;
    }

    /**
     * @param mode            full, quick or smoke
     * @param inProcessKernel for {@link Mode#SMOKE}, the kernel of this JVM (rows of the other one
     *                        are left out, since nothing forks); ignored otherwise
     * @return the rows, in the order they run
     */
    static List<BenchCase> cases(Mode mode, String inProcessKernel) {
        BenchPlan p = new BenchPlan(mode, inProcessKernel);
        p.build();
        return p.cases;
    }

    private void build() {
        boolean full = mode == Mode.FULL;
        boolean smoke = mode == Mode.SMOKE;
        int[] sizes = smoke ? new int[] {M1 / 4} : full ? new int[] {M1, M16, M64} : new int[] {M16, M64};
        int elementwise = smoke ? M1 / 4 : M16;

        streamRead("stream-read", smoke ? M1 / 4 : M256);
        add("copy", "MemoryBandwidthBenchmark.copy", params("floats", "1024", "copyFloats",
                String.valueOf(smoke ? M1 / 8 : full ? M256 / 2 : M64)), smoke ? M1 / 8 : full ? M256 / 2 : M64, 1,
                "simd", 8, "3g");
        for (int n : sizes) {
            add("read", "GlobalNormCheckBenchmark.read", clipParams(n, 1, "simd"), n, 1, "simd", 4, "2g");
        }
        for (String kernel : new String[] {"simd", "scalar"}) {
            for (int n : sizes) {
                for (int tensors : new int[] {1, 200}) {
                    if (!full && kernel.equals("scalar") && (tensors != 1 || n != M16) && !smoke) {
                        continue;
                    }
                    add("global-norm-clip", "GlobalNormClipBenchmark.clip", clipParams(n, tensors, kernel), n,
                            tensors, kernel, 12, "2g");
                }
            }
        }
        for (int n : sizes) {
            add("global-norm-under-threshold", "GlobalNormCheckBenchmark.underThreshold",
                    clipParams(n, 1, "simd"), n, 1, "simd", 4, "2g");
        }
        for (int tensors : smoke ? new int[] {1, 200} : new int[] {200}) {
            add("value-clip", "ElementwiseClipBenchmark.valueClip", clipParams(elementwise, tensors, "simd"),
                    elementwise, tensors, "simd", 8, "2g");
            add("agc", "ElementwiseClipBenchmark.agc", clipParams(elementwise, tensors, "simd"), elementwise,
                    tensors, "simd", 16, "2g");
        }
        if (full) {
            // measured again at the end: the larger of the two is the reference, so the fractions are
            // not flattered by a disturbed first measurement
            streamRead("stream-read-end", M256);
        }
    }

    private void streamRead(String name, int floats) {
        add(name, "MemoryBandwidthBenchmark.read", params("floats", String.valueOf(floats), "copyFloats", "1024"),
                floats, 1, "simd", 4, "2g");
    }

    private static Map<String, String> clipParams(int floats, int tensors, String kernel) {
        return params("floats", String.valueOf(floats), "tensors", String.valueOf(tensors), "kernel", kernel);
    }

    private static Map<String, String> params(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private void add(String name, String benchmark, Map<String, String> params, long floats, int tensors,
            String kernel, int bytesPerFloat, String heap) {
        if (mode == Mode.SMOKE && params.containsKey("kernel") && !kernel.equals(inProcessKernel)) {
            return;
        }
        List<String> jvm = List.of("--add-modules=jdk.incubator.vector", "-Xms" + heap, "-Xmx" + heap,
                "-Dgradclip.kernels=" + kernel);
        cases.add(new BenchCase(name, benchmark, params, floats, tensors, kernel, bytesPerFloat, jvm));
    }
}
