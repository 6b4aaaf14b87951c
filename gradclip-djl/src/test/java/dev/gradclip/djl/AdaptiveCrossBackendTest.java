package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stateful (adaptive) clippers over a sequence of steps, through {@link GradientSet} and
 * {@link DjlGradients}: two instances of each clipper, one per backend, see the same gradients step
 * after step (with 100x spikes and a NaN step) and their reports and results agree within 1e-6
 * relative at every step, so their statistics evolve alike.
 */
class AdaptiveCrossBackendTest {

    private static final long[][] SHAPES = {{6, 5}, {6}, {2, 3, 2}, {1, 4}};
    private static final String[] NAMES = {"fc1.weight", "fc1.bias", "conv.weight", "head.weight"};
    private static final int STEPS = 130;

    static Stream<Arguments> clippers() {
        List<Arguments> out = new ArrayList<>();
        add(out, "autoclip p=10", () -> Clippers.autoClip(10));
        add(out, "zclip", Clippers::zClip);
        add(out, "zclip max-norm, skip on spike", () -> Clippers.zClip().withMaxNorm(5.0).withSkipStepOnSpike(true));
        add(out, "adagc, warm-up 20", () -> Clippers.adaGC().withWarmupSteps(20));
        add(out, "spike guard over global norm", () -> Clippers.spikeGuard(Clippers.globalNorm(2.0), 5.0)
                .withNonFinitePolicy(NonFinitePolicy.SKIP));
        add(out, "scheduled warm-up", () -> Clippers.scheduled(Schedule.cosine(3.0, STEPS, 0.5)));
        add(out, "none", Clippers::none);
        return out.stream();
    }

    private static void add(List<Arguments> out, String name, Supplier<Clipper> clipper) {
        out.add(Arguments.of(name, clipper));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void agreeStepAfterStep(String name, Supplier<Clipper> factory) {
        // small CPU tensors are read on the host by default; the device operations are checked too
        agreeStepAfterStep(name, factory, true);
        agreeStepAfterStep(name, factory, false);
    }

    private static void agreeStepAfterStep(String name, Supplier<Clipper> factory, boolean hostReads) {
        Clipper heapClipper = factory.get().withNonFinitePolicy(NonFinitePolicy.SKIP);
        Clipper deviceClipper = factory.get().withNonFinitePolicy(NonFinitePolicy.SKIP);
        Random r = new Random(21);
        long clippedSteps = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int step = 0; step < STEPS; step++) {
                // a noisy norm around 1-3, a 100x spike every 17 steps, a NaN at step 60
                double magnitude = (1 + r.nextDouble() * 2) * (step % 17 == 16 ? 100 : 1);
                GradientSet.Builder sb = GradientSet.builder();
                DjlGradients.Builder db = DjlGradients.builder().hostReads(hostReads);
                List<NDArray> grads = new ArrayList<>();
                float[][] heapGrads = new float[SHAPES.length][];
                try (NDManager m = manager.newSubManager()) {
                    for (int t = 0; t < SHAPES.length; t++) {
                        int n = (int) new Shape(SHAPES[t]).size();
                        float[] g = new float[n];
                        float[] p = new float[n];
                        for (int i = 0; i < n; i++) {
                            g[i] = (float) (r.nextGaussian() * magnitude / Math.sqrt(n * SHAPES.length));
                            p[i] = (float) r.nextGaussian();
                        }
                        if (step == 60 && t == 2) {
                            g[4] = Float.NaN;
                        }
                        heapGrads[t] = g;
                        String group = NAMES[t].substring(0, NAMES[t].lastIndexOf('.'));
                        NDArray gd = m.create(g, new Shape(SHAPES[t]));
                        grads.add(gd);
                        sb.add(NAMES[t], group, g.clone(), p, SHAPES[t]);
                        db.addGradient(NAMES[t], group, gd, m.create(p, new Shape(SHAPES[t])));
                    }
                    GradientSet heap = sb.build();
                    ClipReport expected = heapClipper.clip(heap);
                    ClipReport actual = deviceClipper.clip(db.build());
                    String what = name + " step " + step;
                    CrossBackendTest.assertReportsAgree(what, expected, actual);
                    for (int t = 0; t < SHAPES.length; t++) {
                        CrossBackendTest.assertClose(what + " " + NAMES[t], heap.gradient(t), grads.get(t).toFloatArray());
                    }
                    clippedSteps += expected.clipped() ? 1 : 0;
                }
            }
        }
        if (!name.equals("none")) {
            assertThat(clippedSteps).as("the sequence must exercise clipping").isPositive();
        }
    }
}
