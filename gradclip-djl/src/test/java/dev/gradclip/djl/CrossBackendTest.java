package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.NormScope;
import dev.gradclip.TensorNorm;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every clipper runs on the same gradients through {@link GradientSet} (float[] on the heap) and
 * {@link DjlGradients} (NDArrays on the PyTorch engine); reports and clipped gradients agree within
 * 1e-6 relative. The decision logic is gradclip-core's in both cases; this test checks the backend
 * primitives.
 */
class CrossBackendTest {

    private static final double TOLERANCE = 1e-6;
    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** Shapes of a small network: dense, bias, convolution, scalar, a one-row matrix and an empty tensor. */
    private static final String[] NAMES = {"fc1.weight", "fc1.bias", "conv.weight", "scale", "head.weight", "empty"};
    private static final long[][] SHAPES = {{8, 5}, {8}, {3, 2, 2, 2}, {}, {1, 7}, {0}};

    /** Gradient and parameter values: mixed magnitudes so that some tensors and units clip and others not. */
    private static float[][][] data(long seed, double magnitude) {
        Random r = new Random(seed);
        float[][] grads = new float[SHAPES.length][];
        float[][] params = new float[SHAPES.length][];
        for (int t = 0; t < SHAPES.length; t++) {
            int n = (int) new Shape(SHAPES[t]).size();
            grads[t] = new float[n];
            params[t] = new float[n];
            double tensorScale = magnitude * Math.pow(10, t % 3 - 1);
            for (int i = 0; i < n; i++) {
                grads[t][i] = (float) (r.nextGaussian() * tensorScale * (1 + i % 4));
                params[t][i] = (float) (r.nextGaussian() * 0.5);
            }
        }
        return new float[][][] {grads, params};
    }

    static Stream<Arguments> clippers() {
        List<Arguments> out = new ArrayList<>();
        add(out, "value 0.5", () -> Clippers.value(0.5));
        add(out, "norm 0.3", () -> Clippers.norm(0.3));
        add(out, "global-norm 1 p=2", () -> Clippers.globalNorm(1.0));
        add(out, "global-norm 1 p=1", () -> Clippers.globalNorm(1.0).withNormType(1.0));
        add(out, "global-norm 1 p=3", () -> Clippers.globalNorm(1.0).withNormType(3.0));
        add(out, "global-norm 1 p=2.5", () -> Clippers.globalNorm(1.0).withNormType(2.5));
        add(out, "global-norm 0.2 p=inf", () -> Clippers.globalNorm(0.2).withNormType(Double.POSITIVE_INFINITY));
        add(out, "global-norm pytorch eps", () -> Clippers.globalNorm(1.0).withEpsilon(1e-6));
        add(out, "group-norm 0.5", () -> Clippers.groupNorm(0.5));
        add(out, "group-norm 0.5 p=3", () -> Clippers.groupNorm(0.5).withNormType(3.0));
        add(out, "tensor-norm 0.5 p=inf", () -> Clippers.norm(0.5, NormScope.TENSOR)
                .withNormType(Double.POSITIVE_INFINITY));
        add(out, "renormalize group", () -> Clippers.renormalize(NormScope.GROUP));
        add(out, "renormalize tensor", () -> Clippers.renormalize(NormScope.TENSOR));
        add(out, "agc 0.05", () -> Clippers.agc(0.05));
        add(out, "agc 0.05 excluding head", () -> Clippers.agc(0.05).excluding("head.weight"));
        return out.stream();
    }

    private static void add(List<Arguments> out, String name, Supplier<Clipper> clipper) {
        out.add(Arguments.of(name, clipper));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void agreesOnFiniteGradients(String name, Supplier<Clipper> clipper) {
        for (double magnitude : new double[] {1e-3, 1.0, 1e3}) {
            compare(clipper.get(), data(7, magnitude), -1, Float.NaN);
        }
    }

    @Test
    void doesNotOverflowOnHugeFiniteValues() {
        for (Clipper c : new Clipper[] {Clippers.globalNorm(1.0), Clippers.globalNorm(1.0).withNormType(3.0),
                Clippers.globalNorm(1.0).withNormType(1.0)}) {
            float[][][] d = data(3, 1.0);
            java.util.Arrays.fill(d[0][0], 3e38f);
            ClipReport r = compare(c, d, -1, Float.NaN);
            assertThat(r.normBefore()).isFinite().isGreaterThan(3e38);
        }
    }

    /**
     * Factors outside the normal float range (2^149 and 7.1e44 round to infinity as a float, 1e-40 to
     * a subnormal) go through both backends' {@code scale} and {@code scaleUnits} in exact
     * power-of-two steps and give the same bits.
     */
    @Test
    void scalesByFactorsOutsideTheFloatRangeAsTheHeapBackendDoes() {
        float[] w = {Float.MIN_VALUE, 0f, 1e-40f, -3e-39f, 2.5e-30f, -7f};
        long[] shape = {3, 2};
        double[][] cases = {{0x1p149}, {7.1e44}, {1e60}, {1e-40}, {1e-60}, {0.5}, {0x1p149, 1.0, 1e-50},
            {1.0, 1e-45, 1e40}, {1e-60, 0x1p140, 1.0}};
        for (double[] factors : cases) {
            for (boolean hostReads : new boolean[] {false, true}) {
                float[] heapScaled = w.clone();
                float[] heapUnits = w.clone();
                GradientSet heap = GradientSet.builder().add("a", heapScaled, shape).add("b", heapUnits, shape).build();
                try (NDManager m = manager.newSubManager()) {
                    NDArray a = m.create(w, new Shape(shape));
                    NDArray b = m.create(w, new Shape(shape));
                    DjlGradients device = DjlGradients.builder().hostReads(hostReads)
                            .addGradient("a", "a", a, null).addGradient("b", "b", b, null).build();
                    double[] unitFactors = factors.length == 3 ? factors : new double[] {factors[0], 1.0, factors[0]};
                    heap.scale(0, factors[0]);
                    device.scale(0, factors[0]);
                    heap.scaleUnits(1, unitFactors);
                    device.scaleUnits(1, unitFactors);
                    String what = java.util.Arrays.toString(unitFactors) + (hostReads ? " host reads" : "");
                    assertThat(a.toFloatArray()).as("scale %s", what).containsExactly(heapScaled);
                    assertThat(b.toFloatArray()).as("scaleUnits %s", what).containsExactly(heapUnits);
                    for (float x : a.toFloatArray()) {
                        assertThat(x).as("scale %s", what).isNotNaN();
                    }
                    device.close();
                }
            }
        }
        // the audit's case on the device backend: renormalizing [1.4e-45, 0, 0] gives [1, 0, 0]
        for (NormScope scope : NormScope.values()) {
            try (NDManager m = manager.newSubManager()) {
                NDArray g = m.create(new float[] {Float.MIN_VALUE, 0f, 0f});
                try (DjlGradients device = DjlGradients.builder().addGradient("g", "g", g, null).build()) {
                    Clippers.renormalize(scope).clip(device);
                }
                assertThat(g.toFloatArray()).as("%s", scope).containsExactly(1f, 0f, 0f);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void agreesOnNonFiniteGradientsUnderEveryPolicy(String name, Supplier<Clipper> clipper) {
        for (NonFinitePolicy policy : NonFinitePolicy.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                compare(clipper.get().withNonFinitePolicy(policy), data(11, 1.0), 2, bad);
            }
        }
    }

    /**
     * Clips copies of the same data through both backends and checks reports and results agree.
     *
     * @param badTensor a tensor to poison at elements 3 and 5 with {@code bad}, or -1
     * @return the heap backend's report
     */
    private static ClipReport compare(Clipper clipper, float[][][] d, int badTensor, float bad) {
        float[][] grads = d[0];
        if (badTensor >= 0) {
            grads[badTensor][3] = bad;
            grads[badTensor][5] = -bad;
        }
        // small CPU tensors are read on the host by default; the device operations are checked too
        compareOnce(clipper.withNonFinitePolicy(clipper.nonFinitePolicy()), d, false);
        return compareOnce(clipper, d, true);
    }

    private static ClipReport compareOnce(Clipper clipper, float[][][] d, boolean hostReads) {
        float[][] grads = d[0];
        float[][] params = d[1];
        GradientSet.Builder sb = GradientSet.builder();
        DjlGradients.Builder db = DjlGradients.builder().hostReads(hostReads);
        List<NDArray> ndGrads = new ArrayList<>();
        try (NDManager m = manager.newSubManager()) {
            for (int t = 0; t < grads.length; t++) {
                String group = NAMES[t].contains(".") ? NAMES[t].substring(0, NAMES[t].lastIndexOf('.')) : NAMES[t];
                sb.add(NAMES[t], group, grads[t].clone(), params[t], SHAPES[t]);
                NDArray g = m.create(grads[t], new Shape(SHAPES[t]));
                ndGrads.add(g);
                db.addGradient(NAMES[t], group, g, m.create(params[t], new Shape(SHAPES[t])));
            }
            GradientSet heap = sb.build();
            DjlGradients device = db.build();
            Clipper twin = clipper.withNonFinitePolicy(clipper.nonFinitePolicy());
            ClipReport expected;
            try {
                expected = clipper.clip(heap);
            } catch (NonFiniteGradientException e) {
                assertThatThrownBy(() -> twin.clip(device).toString()).isInstanceOfSatisfying(NonFiniteGradientException.class,
                        f -> {
                            assertThat(f.tensorName()).isEqualTo(e.tensorName());
                            assertThat(f.elementIndex()).isEqualTo(e.elementIndex());
                            assertThat(f.nonFiniteCount()).isEqualTo(e.nonFiniteCount());
                            assertThat(Float.compare(f.value(), e.value())).isZero();
                        });
                for (int t = 0; t < grads.length; t++) {
                    assertThat(ndGrads.get(t).toFloatArray()).as("untouched after THROW").containsExactly(grads[t]);
                }
                return null;
            }
            ClipReport actual = twin.clip(device);
            assertReportsAgree(clipper.toString(), expected, actual);
            for (int t = 0; t < grads.length; t++) {
                assertClose(clipper + " " + NAMES[t], heap.gradient(t), ndGrads.get(t).toFloatArray());
            }
            device.close();
            assertThat(m.getManagedArrays()).as("arrays left open by the clip").hasSize(2 * grads.length);
            return expected;
        }
    }

    static void assertReportsAgree(String what, ClipReport expected, ClipReport actual) {
        assertThat(actual.method()).isEqualTo(expected.method());
        assertClose(what + " normBefore", expected.normBefore(), actual.normBefore());
        assertClose(what + " normAfter", expected.normAfter(), actual.normAfter());
        assertClose(what + " coefficient", expected.coefficient(), actual.coefficient());
        assertClose(what + " threshold", expected.threshold(), actual.threshold());
        assertThat(actual.clipped()).as(what + " clipped").isEqualTo(expected.clipped());
        assertThat(actual.skipped()).as(what + " skipped").isEqualTo(expected.skipped());
        assertThat(actual.clippedCount()).as(what + " clippedCount").isEqualTo(expected.clippedCount());
        assertThat(actual.nonFiniteCount()).as(what + " nonFiniteCount").isEqualTo(expected.nonFiniteCount());
        assertThat(actual.firstNonFiniteTensor()).isEqualTo(expected.firstNonFiniteTensor());
        assertThat(actual.firstNonFiniteIndex()).isEqualTo(expected.firstNonFiniteIndex());
        double[] en = expected.tensorNorms();
        double[] an = actual.tensorNorms();
        assertThat(an).hasSameSizeAs(en);
        for (int i = 0; i < en.length; i++) {
            assertClose(what + " tensorNorms[" + i + "]", en[i], an[i]);
        }
        assertThat(actual.largest().stream().map(TensorNorm::name).toList()).as(what + " largest")
                .isEqualTo(expected.largest().stream().map(TensorNorm::name).toList());
    }

    static void assertClose(String what, double expected, double actual) {
        if (Double.isNaN(expected) || Double.isInfinite(expected)) {
            assertThat(Double.compare(actual, expected)).as(what + ": " + actual + " vs " + expected).isZero();
            return;
        }
        double err = Math.abs(actual - expected);
        if (err > TOLERANCE * Math.abs(expected) && err > 1e-300) {
            fail(what + ": expected " + expected + " but DJL gave " + actual + " (relative error "
                    + err / Math.abs(expected) + ")");
        }
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertClose(what + "[" + i + "]", expected[i], actual[i]);
        }
    }
}
