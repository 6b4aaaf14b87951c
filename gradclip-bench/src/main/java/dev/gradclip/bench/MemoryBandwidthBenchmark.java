package dev.gradclip.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * The physical limits one thread meets: streaming read bandwidth (a sum over a large array, the
 * fastest loop that reads every float once) and copy bandwidth ({@code System.arraycopy}, whose
 * stubs use the widest moves the CPU has). Every clipping result is reported as a fraction of
 * {@link #read}.
 *
 * <p>Bytes moved: {@code read} reads {@code 4n}; {@code copy} reads {@code 4n} and writes
 * {@code 4n}, counted as {@code 8n} (the cache-line fetch before each write, which the hardware also
 * does, is not counted). The default size, 256M floats (1 GiB), is well above this machine's L3, so
 * {@code read} measures memory, not cache; {@code floats} can be set lower to see the cache levels.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g"})
@State(Scope.Benchmark)
public class MemoryBandwidthBenchmark {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    /** Elements read by {@link #read}; {@link #copy} copies half as many (two arrays of that size). */
    @Param("268435456")
    public int floats;

    private float[] a;

    /** The source and destination of {@link #copy}. */
    @State(Scope.Benchmark)
    public static class CopyState {
        /** Elements copied per call. */
        @Param("134217728")
        public int copyFloats;

        float[] src;
        float[] dst;

        /** Allocates and fills both arrays (so no page is first touched while measured). */
        @Setup
        public void setUp() {
            src = Workloads.uniform(copyFloats, new SplittableRandom(2));
            dst = new float[copyFloats];
            System.arraycopy(src, 0, dst, 0, copyFloats);
        }
    }

    /** Allocates and fills the array read by {@link #read}. */
    @Setup
    public void setUp() {
        float[] small = Workloads.uniform(32 * 1024, new SplittableRandom(1));
        for (int i = 0; i < 3000; i++) {
            sum(small);
        }
        a = Workloads.uniform(floats, new SplittableRandom(1));
    }

    /**
     * Streaming read: {@code Σ a_i} with four vector accumulators in {@code float}; the sum itself is
     * irrelevant, it only keeps the loads alive.
     *
     * @return the sum
     */
    @Benchmark
    public float read() {
        return sum(a);
    }

    /**
     * Copy bandwidth: one {@code System.arraycopy} of {@code copyFloats} floats.
     *
     * @param s the arrays
     * @return the destination, so the copy is not eliminated
     */
    @Benchmark
    public float[] copy(CopyState s) {
        System.arraycopy(s.src, 0, s.dst, 0, s.copyFloats);
        return s.dst;
    }

    /**
     * The streaming read loop, shared with the other benchmarks that compare against it.
     *
     * @param a the array
     * @return {@code Σ a_i} in float (order unspecified)
     */
    static float sum(float[] a) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F),
                s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int i = 0;
        int bound = a.length - 4 * L;
        for (; i <= bound; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + L));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * L));
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) {
            s += a[i];
        }
        return s;
    }
}
