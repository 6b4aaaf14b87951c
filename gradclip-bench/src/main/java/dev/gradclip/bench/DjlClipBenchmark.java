package dev.gradclip.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.ClipReport;
import dev.gradclip.Clippers;
import dev.gradclip.djl.DjlGradients;
import java.nio.FloatBuffer;
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
 * Global-norm clipping of NDArray gradients on DJL's PyTorch engine (CPU), on the same data as the
 * array benchmarks, two ways:
 * <ul>
 *   <li>{@link #gradclipDjl}: gradclip's {@code DjlGradients} backend under
 *       {@code Clippers.globalNorm(c)}, as a DJL user calls it;</li>
 *   <li>{@link #libtorchOps}: the peer, the operation composed from libtorch ops through DJL as
 *       PyTorch's {@code torch.nn.utils.clip_grad_norm_} does it on CPU: a norm per tensor, the norm
 *       of their stack, {@code coef = min(c / (total + 1e-6), 1)} kept on the device, and an in-place
 *       multiply of every tensor by it.</li>
 * </ul>
 * Both read the gradients once for the norm and read and write them once for the scale, counted as
 * {@code 12n} bytes. Each call clips to half the starting norm; an untimed setup restores the
 * gradients before every call. Temporaries of a call live in a sub-manager closed by the call, as a
 * training loop must do.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g", "-Dai.djl.offline=true"})
@State(Scope.Benchmark)
public class DjlClipBenchmark {

    /** PyTorch's {@code clip_grad_norm_} adds this to the total norm before dividing. */
    static final float PYTORCH_EPSILON = 1e-6f;

    /** Total elements. */
    @Param({"16777216"})
    public int floats;

    /** Number of tensors the elements are split into. */
    @Param({"1", "200"})
    public int tensors;

    private NDManager manager;
    private float[][] pristine;
    private NDArray[] grads;
    private DjlGradients view;
    private double threshold;
    private double aboveNorm;

    /** Creates the NDArrays from the same data as the array benchmarks and warms both paths up. */
    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        warmUp();
        pristine = Workloads.uniform(Workloads.split(floats, tensors), ClipData.GRADIENT_SEED);
        grads = create(pristine);
        view = view(grads);
        double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(view).normBefore();
        view.close();
        threshold = norm / 2;
        aboveNorm = norm * 2;
    }

    private void warmUp() {
        float[][] small = Workloads.uniform(Workloads.split(4 * 8 * Workloads.ROW, 4), 99);
        NDArray[] g = create(small);
        try (DjlGradients v = view(g)) {
            for (int i = 0; i < 300; i++) {
                Clippers.globalNorm(1e-3).clip(v);
                v.close();
                clipLikePyTorch(g, 1e-3);
            }
        }
        for (NDArray a : g) {
            a.close();
        }
    }

    private NDArray[] create(float[][] data) {
        return create(manager, data);
    }

    /** NDArrays of shape {@code [rows, ROW]} holding {@code data}, one per tensor. */
    static NDArray[] create(NDManager manager, float[][] data) {
        NDArray[] out = new NDArray[data.length];
        for (int t = 0; t < data.length; t++) {
            out[t] = manager.create(data[t], new Shape(data[t].length / Workloads.ROW, Workloads.ROW));
        }
        return out;
    }

    /** A {@code DjlGradients} over the arrays, named {@code layer<t>.weight}, grouped per layer. */
    static DjlGradients view(NDArray[] grads) {
        DjlGradients.Builder b = DjlGradients.builder();
        for (int t = 0; t < grads.length; t++) {
            b.addGradient("layer" + t + ".weight", "layer" + t, grads[t], null);
        }
        return b.build();
    }

    /** Restores the gradients (not timed). */
    @Setup(Level.Invocation)
    public void restore() {
        for (int t = 0; t < grads.length; t++) {
            grads[t].set(FloatBuffer.wrap(pristine[t]));
        }
    }

    /** Frees the native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    /**
     * gradclip's global-norm clip on the NDArrays, through a view built once and closed after each
     * step, as {@code DjlGradients} is meant to be used.
     *
     * @return the report
     */
    @Benchmark
    public ClipReport gradclipDjl() {
        return clipDjl(threshold);
    }

    /** @return the pre-clip total norm, as PyTorch's {@code clip_grad_norm_} returns it */
    @Benchmark
    public float libtorchOps() {
        return clipLikePyTorch(grads, threshold);
    }

    /**
     * A step whose norm is under the threshold (the common case once training settles): gradclip
     * measures the norm and leaves the gradients alone.
     *
     * @return the report
     */
    @Benchmark
    public ClipReport gradclipDjlUnderThreshold() {
        return clipDjl(aboveNorm);
    }

    private ClipReport clipDjl(double c) {
        ClipReport r = Clippers.globalNorm(c).clip(view);
        view.close();
        return r;
    }

    /**
     * The peer on a step under the threshold: {@code clip_grad_norm_} multiplies every gradient by its
     * clamped coefficient, 1, all the same.
     *
     * @return the total norm
     */
    @Benchmark
    public float libtorchOpsUnderThreshold() {
        return clipLikePyTorch(grads, aboveNorm);
    }

    /**
     * {@code clip_grad_norm_} for {@code norm_type = 2} on CPU, op for op: per-tensor
     * {@code vector_norm}, {@code stack}, {@code vector_norm}, {@code max_norm / (total + 1e-6)},
     * {@code clamp(max = 1)}, {@code mul_} on every gradient (also when the coefficient is 1).
     */
    private float clipLikePyTorch(NDArray[] g, double maxNorm) {
        try (NDManager sub = manager.newSubManager()) {
            NDList norms = new NDList(g.length);
            for (NDArray a : g) {
                NDArray n = a.norm();
                n.attach(sub);
                norms.add(n);
            }
            NDArray total = NDArrays.stack(norms).norm();
            total.attach(sub);
            NDArray coef = total.add(PYTORCH_EPSILON).getNDArrayInternal().rdiv((float) maxNorm).minimum(1f);
            coef.attach(sub);
            for (NDArray a : g) {
                a.muli(coef);
            }
            return total.getFloat();
        }
    }
}
