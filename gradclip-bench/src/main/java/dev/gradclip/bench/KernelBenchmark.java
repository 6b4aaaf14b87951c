package dev.gradclip.bench;

import dev.gradclip.internal.FloatKernels;
import dev.gradclip.internal.ScalarKernels;
import dev.gradclip.internal.vector.SimdKernels;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The two hot loops of every norm-based clip, on one array, for each kernel instantiated directly:
 * {@code sumOfSquares} (the norm pass, reads {@code 4n} bytes) and {@code scale} (the write pass,
 * reads and writes {@code 8n}), beside the streaming read of the same array. Used to tune the
 * kernels; the bench command measures the clippers themselves.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
@State(Scope.Benchmark)
public class KernelBenchmark {

    /** Elements per array. */
    @Param({"1048576", "16777216", "67108864"})
    public int floats;

    /** {@code scalar} or {@code simd}. */
    @Param({"scalar", "simd"})
    public String kernel;

    private float[] a;
    private FloatKernels k;
    private int calls;

    /** Fills the array and picks the kernel. */
    @Setup
    public void setUp() {
        a = Workloads.uniform(floats, new SplittableRandom(3));
        k = switch (kernel) {
            case "scalar" -> ScalarKernels.INSTANCE;
            case "simd" -> new SimdKernels();
            default -> throw new IllegalArgumentException("kernel must be scalar or simd, got " + kernel);
        };
    }

    /** @return {@code Σ a_i²} */
    @Benchmark
    public double sumOfSquares() {
        return k.sumOfSquares(a, 0, a.length);
    }

    /**
     * Scales by 2 and by 0.5 on alternate calls: both exact, so the data never drifts.
     *
     * @return the array
     */
    @Benchmark
    public float[] scale() {
        k.scale(a, 0, a.length, (calls++ & 1) == 0 ? 2f : 0.5f);
        return a;
    }

    /** @return the streaming read of the same array, for comparison */
    @Benchmark
    public float read() {
        return MemoryBandwidthBenchmark.sum(a);
    }
}
