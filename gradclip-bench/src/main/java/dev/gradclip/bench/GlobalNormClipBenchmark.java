package dev.gradclip.bench;

import dev.gradclip.ClipReport;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Global-norm clipping over the threshold, through the public API ({@code Clippers.globalNorm(c)
 * .clip(set)} on a {@code GradientSet}): one norm pass (reads {@code 4n} bytes) and one scale pass
 * (reads and writes {@code 8n}), counted as {@code 12n} bytes.
 *
 * <p>Every call must clip, but a clipped set no longer exceeds its threshold. So each call clips
 * to half the current norm: the coefficient is exactly 0.5 and every element halves exactly. After
 * {@value #HALVINGS} calls the setup (not timed) multiplies by {@code 2^HALVINGS}, restoring the data
 * bit for bit. The kernels are those of the JVM ({@code -Dgradclip.kernels}); {@code kernel} names
 * them and the setup fails if they differ.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g", "-Dgradclip.kernels=simd"})
@State(Scope.Benchmark)
public class GlobalNormClipBenchmark {

    /** Calls between two (untimed) restorations of the data's scale. */
    static final int HALVINGS = 24;

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
    private double norm;
    private int halvings;
    private long unclipped;

    /** Creates the gradients and measures their norm. */
    @Setup(Level.Trial)
    public void setUp() {
        ClipData.requireKernel(kernel);
        JitWarmUp.run(set -> Clippers.globalNorm(1e-3).clip(set));
        data = ClipData.create(floats, tensors, false, kernel);
        norm = Clippers.globalNorm(Double.MAX_VALUE).clip(data.set).normBefore();
    }

    /** Restores the scale after {@value #HALVINGS} halvings. */
    @Setup(Level.Invocation)
    public void restoreScale() {
        if (halvings == HALVINGS) {
            double factor = Math.scalb(1.0, HALVINGS);
            for (int t = 0; t < data.set.tensorCount(); t++) {
                data.set.scale(t, factor);
            }
            norm *= factor;
            halvings = 0;
        }
    }

    /** Fails the run if a call did not clip, which would make its figure meaningless. */
    @TearDown(Level.Trial)
    public void check() {
        if (unclipped > 0) {
            throw new IllegalStateException(unclipped + " calls did not clip");
        }
    }

    /** @return the report of one clip to half the current norm */
    @Benchmark
    public ClipReport clip() {
        ClipReport r = Clippers.globalNorm(norm * 0.5).clip(data.set);
        if (!r.clipped()) {
            unclipped++;
        }
        norm = r.normAfter();
        halvings++;
        return r;
    }
}
