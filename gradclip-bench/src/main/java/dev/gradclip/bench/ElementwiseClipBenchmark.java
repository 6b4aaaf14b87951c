package dev.gradclip.bench;

import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Value clipping and AGC (Brock et al. 2021, arXiv:2102.06171) through the public API, on
 * gradients and parameters uniform in {@code [-1, 1)} split into {@code [rows, 1024]} tensors.
 * Both change the data, so an untimed setup restores the gradients before every call.
 *
 * <p>Bytes counted are the least either method must move: value clipping reads and writes the
 * gradients ({@code 8n}); AGC reads the parameters and the gradients and rewrites the gradients
 * ({@code 16n}). Passes beyond that (the non-finite check every clipper starts with, AGC's
 * separate tensor and unit norms) show as a lower figure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g", "-Dgradclip.kernels=simd"})
@State(Scope.Benchmark)
public class ElementwiseClipBenchmark {

    /** The value-clipping bound: half the elements of uniform [-1, 1) data exceed it. */
    static final double CLIP_VALUE = 0.5;
    /** The AGC λ: small enough that every unit of the test data is clipped. */
    static final double AGC_LAMBDA = 0.01;

    /** Total elements. */
    @Param({"16777216"})
    public int floats;

    /** Number of tensors the elements are split into. */
    @Param({"1", "200"})
    public int tensors;

    /** The kernels this fork runs: {@code simd} or {@code scalar}. */
    @Param({"simd"})
    public String kernel;

    private ClipData data;
    private float[][] pristine;
    private final Clipper value = Clippers.value(CLIP_VALUE);
    private final Clipper agc = Clippers.agc(AGC_LAMBDA);

    /** Creates gradients, parameters and a pristine copy of the gradients. */
    @Setup(Level.Trial)
    public void setUp() {
        ClipData.requireKernel(kernel);
        JitWarmUp.run(set -> {
            value.clip(set);
            agc.clip(set);
        });
        data = ClipData.create(floats, tensors, true, kernel);
        pristine = ClipData.copy(data.grads);
    }

    /** Restores the gradients (not timed). */
    @Setup(Level.Invocation)
    public void restore() {
        Workloads.restore(pristine, data.grads);
    }

    /** @return the report of clamping every element to [-0.5, 0.5] */
    @Benchmark
    public ClipReport valueClip() {
        return value.clip(data.set);
    }

    /** @return the report of AGC with λ = 0.01, every unit clipped */
    @Benchmark
    public ClipReport agc() {
        return agc.clip(data.set);
    }
}
