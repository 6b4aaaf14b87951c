package dev.gradclip.bench;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
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
 * A global-norm step under the threshold, the common case once training is stable: the norm pass
 * alone (reads {@code 4n} bytes) and no write. Its time against {@code MemoryBandwidthBenchmark.read}
 * shows that such a step costs one read pass.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g", "-Dgradclip.kernels=simd"})
@State(Scope.Benchmark)
public class GlobalNormCheckBenchmark {

    /** Total elements. */
    @Param({"1048576", "16777216", "67108864"})
    public int floats;

    /** Number of tensors the elements are split into. */
    @Param({"1", "200"})
    public int tensors;

    /** The kernels this fork runs: {@code simd} or {@code scalar}. */
    @Param({"simd"})
    public String kernel;

    private ClipData data;
    private Clipper clipper;

    /** Creates the gradients and a threshold far above their norm. */
    @Setup
    public void setUp() {
        ClipData.requireKernel(kernel);
        JitWarmUp.run(set -> {
            Clippers.globalNorm(1e9).clip(set);
            MemoryBandwidthBenchmark.sum(set.gradient(0));
        });
        data = ClipData.create(floats, tensors, false, kernel);
        double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(data.set).normBefore();
        clipper = Clippers.globalNorm(norm * 2);
    }

    /** @return the report of a step that does not clip */
    @Benchmark
    public ClipReport underThreshold() {
        return clipper.clip(data.set);
    }

    /** @return the streaming read of the same arrays, for comparison in the same fork */
    @Benchmark
    public float read() {
        float s = 0;
        for (float[] a : data.grads) {
            s += MemoryBandwidthBenchmark.sum(a);
        }
        return s;
    }
}
