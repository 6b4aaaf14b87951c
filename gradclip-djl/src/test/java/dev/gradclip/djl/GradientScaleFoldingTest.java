package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ClippedTrainer} folding a clipper's scaling into {@link DjlNesterov}'s and
 * {@link DjlRmsProp}'s update ({@link GradientScaleFolding}) against scaling the gradients in place
 * ({@code optGradientScaleFolding(false)}), on a small two-layer model over several steps, with
 * weight decay, DJL's rescale factor and clamp set and unset: the weights are bit for bit equal
 * (stricter than the one unit in the last place issue 15 allows: folding the factor into the rescale
 * factor as one rounded product {@code r·k} drifted by 2 to 40 units within 6 steps here, so the
 * optimizers multiply by k, then r); the step results and reports are equal; the folded path leaves
 * the gradient arrays unscaled; and an optimizer that does not fold (DJL's native SGD, Adam, AdamW)
 * trains bit for bit as clipping in place and then {@code trainer.step()} always did.
 */
@Tag("training")
class GradientScaleFoldingTest {

    private static final int STEPS = 8;
    private static final int ROWS = 8;
    private static final int INPUTS = 5;
    private static final int OUTPUTS = 2;
    /** Per step, the scale of the targets: the global gradient norm goes under and over 1. */
    private static final double[] TARGET_SCALES = {4, 0.05, 10, 0.2, 1, 30, 0.1, 3};
    private static final float RESCALE = 0.7f;

    private static final Map<String, Supplier<Clipper>> CLIPPERS = new LinkedHashMap<>();
    private static final Map<String, Supplier<Optimizer>> OPTIMIZERS = new LinkedHashMap<>();
    /** The clippers whose action is a factor per tensor, folded into the update. */
    private static final List<String> SCALING = List.of("global-norm", "norm per tensor", "group-norm", "zclip",
            "autoclip");

    static {
        // scaling clippers, whose factors are folded
        CLIPPERS.put("global-norm", () -> Clippers.globalNorm(1.0));
        CLIPPERS.put("norm per tensor", () -> Clippers.norm(0.4));
        CLIPPERS.put("group-norm", () -> Clippers.groupNorm(0.5));
        CLIPPERS.put("zclip", () -> Clippers.zClip().withWarmupSteps(2));
        CLIPPERS.put("autoclip", () -> Clippers.autoClip());
        // clippers that edit elements, written in place on both paths
        CLIPPERS.put("value", () -> Clippers.value(0.05));
        CLIPPERS.put("agc", () -> Clippers.agc(0.02));

        OPTIMIZERS.put("nesterov", () -> DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.05f))
                .setMomentum(0.9f).build());
        OPTIMIZERS.put("nesterov decay rescale clamp", () -> DjlNesterov.builder()
                .setLearningRateTracker(Tracker.fixed(0.05f)).setMomentum(0.9f)
                .optWeightDecays(0.01f).setRescaleGrad(RESCALE).optClipGrad(0.3f).build());
        OPTIMIZERS.put("rmsprop", () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.01f)).build());
        OPTIMIZERS.put("rmsprop decay", () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.01f))
                .optWeightDecays(0.02f).build());
        OPTIMIZERS.put("rmsprop centered momentum decay rescale clamp", () -> DjlRmsProp.builder()
                .optLearningRateTracker(Tracker.fixed(0.005f)).optCentered(true).optMomentum(0.5f)
                .optWeightDecays(0.01f).setRescaleGrad(RESCALE).optClipGrad(0.3f).build());
        OPTIMIZERS.put("rmsprop rescale", () -> DjlRmsProp.builder().optLearningRateTracker(Tracker.fixed(0.01f))
                .setRescaleGrad(RESCALE).build());
    }

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        OPTIMIZERS.keySet().forEach(o -> CLIPPERS.keySet().forEach(c -> out.add(Arguments.of(o, c))));
        return out.stream();
    }

    /** A tanh layer and a linear head, with the same seeded parameter values whatever the engine's seed. */
    private static Trainer trainer(Model model, Optimizer optimizer) {
        model.setBlock(new SequentialBlock()
                .add(Linear.builder().setUnits(6).build())
                .add(Activation::tanh)
                .add(Linear.builder().setUnits(OUTPUTS).build()));
        Trainer trainer = model.newTrainer(new DefaultTrainingConfig(new GcSafeL2Loss()).optOptimizer(optimizer));
        trainer.initialize(new Shape(ROWS, INPUTS));
        Random r = new Random(11);
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            NDArray a = p.getValue().getArray();
            float[] v = new float[Math.toIntExact(a.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (0.5 * r.nextGaussian());
            }
            a.set(v);
        }
        return trainer;
    }

    /** The batch of step k: inputs and targets of the step's scale. */
    private static NDList[] batch(NDManager m, int k) {
        Random r = new Random(100 + k);
        float[] x = new float[ROWS * INPUTS];
        float[] y = new float[ROWS * OUTPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (TARGET_SCALES[k % TARGET_SCALES.length] * r.nextGaussian());
        }
        return new NDList[] {new NDList(m.create(x, new Shape(ROWS, INPUTS))),
            new NDList(m.create(y, new Shape(ROWS, OUTPUTS)))};
    }

    private static List<float[]> parameters(Model model) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            out.add(p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    private static List<float[]> gradients(Model model) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                out.add(g.toFloatArray());
            }
        }
        return out;
    }

    /** Element by element, {@code actual} has the bits of {@code expected}. */
    private static void assertBitForBit(List<float[]> actual, List<float[]> expected, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int t = 0; t < expected.size(); t++) {
            float[] a = actual.get(t);
            float[] e = expected.get(t);
            assertThat(a).hasSameSizeAs(e);
            for (int i = 0; i < e.length; i++) {
                assertThat(Float.floatToRawIntBits(a[i])).as("%s, tensor %d element %d: %s vs %s (%s ulp)", what, t,
                        i, a[i], e[i], Math.abs(a[i] - e[i]) / Math.ulp(e[i])).isEqualTo(Float.floatToRawIntBits(e[i]));
            }
        }
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("matrix")
    void foldedTrainingEqualsScalingInPlaceBitForBit(String optimizerName, String clipperName) {
        Optimizer foldingOptimizer = OPTIMIZERS.get(optimizerName).get();
        try (NDManager m = NDManager.newBaseManager(); Model a = Model.newInstance("folded");
                Model b = Model.newInstance("in-place");
                Trainer ta = trainer(a, foldingOptimizer);
                Trainer tb = trainer(b, OPTIMIZERS.get(optimizerName).get())) {
            ClippedTrainer folded = ClippedTrainer.of(ta, CLIPPERS.get(clipperName).get());
            ClippedTrainer inPlace = ClippedTrainer.builder().setTrainer(tb).setClipper(CLIPPERS.get(clipperName).get())
                    .optGradientScaleFolding(false).build();
            assertThat(folded.isGradientScaleFolding()).isTrue();
            assertThat(inPlace.isGradientScaleFolding()).isFalse();
            List<float[]> initial = parameters(a);
            assertBitForBit(initial, parameters(b), "initial parameters");
            int clipped = 0;
            for (int k = 0; k < STEPS; k++) {
                NDList[] xy = batch(m, k);
                StepResult ra = folded.trainBatch(xy[0], xy[1]);
                StepResult rb = inPlace.trainBatch(xy[0], xy[1]);
                assertThat(ra.skipped()).isFalse();
                assertThat(rb.skipped()).isFalse();
                assertThat(ra).as("step %d", k).isEqualTo(rb);
                clipped += ra.report().clipped() ? 1 : 0;
                assertBitForBit(parameters(a), parameters(b), "parameters after step " + k);
                // the factors of a step are removed once its update is made
                for (Pair<String, Parameter> p : a.getBlock().getParameters()) {
                    assertThat(((GradientScaleFolding) foldingOptimizer).getGradientScale(p.getValue().getId()))
                            .isEqualTo(1f);
                }
            }
            assertThat(folded.getClippedSteps()).isEqualTo(inPlace.getClippedSteps());
            // the optimizer's moments and counts too (the folding optimizer's factors are not state)
            assertThat(DjlTrainingState.save(ta)).isEqualTo(DjlTrainingState.save(tb));
            // the clipper acted on some steps and not on others, and training moved the weights
            if (SCALING.contains(clipperName)) {
                assertThat(clipped).as("clipped steps").isBetween(1, STEPS - 1);
            } else {
                assertThat(clipped).as("clipped steps").isPositive();
            }
            float[] w0 = initial.get(0);
            float[] w = parameters(a).get(0);
            for (int i = 0; i < w.length; i++) {
                assertThat(w[i]).as("first weight, element %d, moved", i).isNotEqualTo(w0[i]);
            }
        }
    }

    /** A NaN at step 2: zeroed then scaled under ZERO, the step skipped under SKIP, on both paths alike. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = NonFinitePolicy.class, names = {"ZERO", "SKIP"})
    void aNonFiniteGradientIsHandledAsInPlace(NonFinitePolicy policy) {
        String optimizerName = "rmsprop centered momentum decay rescale clamp";
        int[] step = {0, 0};
        try (NDManager m = NDManager.newBaseManager(); Model a = Model.newInstance("folded");
                Model b = Model.newInstance("in-place");
                Trainer ta = trainer(a, OPTIMIZERS.get(optimizerName).get());
                Trainer tb = trainer(b, OPTIMIZERS.get(optimizerName).get())) {
            ClippedTrainer folded = ClippedTrainer.builder().setTrainer(ta)
                    .setClipper(Clippers.globalNorm(1.0).withNonFinitePolicy(policy))
                    .optBeforeClip(g -> poison(g, step[0]++)).build();
            ClippedTrainer inPlace = ClippedTrainer.builder().setTrainer(tb)
                    .setClipper(Clippers.globalNorm(1.0).withNonFinitePolicy(policy))
                    .optBeforeClip(g -> poison(g, step[1]++)).optGradientScaleFolding(false).build();
            assertThat(folded.isGradientScaleFolding()).isTrue();
            for (int k = 0; k < STEPS; k++) {
                NDList[] xy = batch(m, k);
                StepResult ra = folded.trainBatch(xy[0], xy[1]);
                StepResult rb = inPlace.trainBatch(xy[0], xy[1]);
                assertThat(ra).as("step %d", k).isEqualTo(rb);
                assertThat(ra.report().nonFiniteCount()).isEqualTo(k == 2 ? 1 : 0);
                assertThat(ra.skipped()).isEqualTo(k == 2 && policy == NonFinitePolicy.SKIP);
                assertBitForBit(parameters(a), parameters(b), "parameters after step " + k);
            }
            assertThat(folded.getClippedSteps()).isPositive();
            assertThat(DjlTrainingState.save(ta)).isEqualTo(DjlTrainingState.save(tb));
        }
    }

    private static void poison(DjlGradients g, int step) {
        if (step == 2) {
            g.set(0, 3, Float.NaN);
        }
    }

    @Test
    void theFoldedPathLeavesTheGradientsUnscaledAndHandsTheFactorToTheOptimizer() {
        DjlNesterov nesterov = DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.05f)).setMomentum(0.9f)
                .optWeightDecays(0.01f).build();
        try (NDManager m = NDManager.newBaseManager(); Model a = Model.newInstance("folded");
                Model b = Model.newInstance("in-place");
                Trainer ta = trainer(a, nesterov);
                Trainer tb = trainer(b, DjlNesterov.builder().setLearningRateTracker(Tracker.fixed(0.05f))
                        .setMomentum(0.9f).optWeightDecays(0.01f).build())) {
            ClippedTrainer folded = ClippedTrainer.of(ta, Clippers.globalNorm(0.01));
            ClippedTrainer inPlace = ClippedTrainer.builder().setTrainer(tb).setClipper(Clippers.globalNorm(0.01))
                    .optGradientScaleFolding(false).build();
            NDList[] xy = batch(m, 0);
            double la = folded.forwardBackward(xy[0], xy[1]);
            double lb = inPlace.forwardBackward(xy[0], xy[1]);
            List<float[]> raw = gradients(a);
            assertBitForBit(gradients(b), raw, "raw gradients");
            ClipReport ra = folded.clipGradients();
            ClipReport rb = inPlace.clipGradients();
            assertThat(ra.clipped()).isTrue();
            assertThat(ra).isEqualTo(rb);
            float c = (float) ra.coefficient();
            assertBitForBit(gradients(a), raw, "folded: gradients after the clip");
            List<float[]> scaled = new ArrayList<>();
            for (float[] g : raw) {
                float[] s = g.clone();
                for (int i = 0; i < s.length; i++) {
                    s[i] *= c;
                }
                scaled.add(s);
            }
            assertBitForBit(gradients(b), scaled, "in place: gradients after the clip");
            for (Pair<String, Parameter> p : a.getBlock().getParameters()) {
                assertThat(nesterov.getGradientScale(p.getValue().getId())).isEqualTo(c);
            }
            folded.update(la, ra);
            inPlace.update(lb, rb);
            assertBitForBit(parameters(a), parameters(b), "parameters after the update");
            for (Pair<String, Parameter> p : a.getBlock().getParameters()) {
                assertThat(nesterov.getGradientScale(p.getValue().getId())).isEqualTo(1f);
            }
        }
    }

    @Test
    void aPlainTrainerStepAfterClipGradientsAppliesTheFoldedFactors() {
        try (NDManager m = NDManager.newBaseManager(); Model a = Model.newInstance("folded");
                Model b = Model.newInstance("in-place");
                Trainer ta = trainer(a, OPTIMIZERS.get("rmsprop decay").get());
                Trainer tb = trainer(b, OPTIMIZERS.get("rmsprop decay").get())) {
            ClippedTrainer folded = ClippedTrainer.of(ta, Clippers.globalNorm(0.01));
            ClippedTrainer inPlace = ClippedTrainer.builder().setTrainer(tb).setClipper(Clippers.globalNorm(0.01))
                    .optGradientScaleFolding(false).build();
            for (int k = 0; k < 3; k++) {
                NDList[] xy = batch(m, k);
                folded.forwardBackward(xy[0], xy[1]);
                inPlace.forwardBackward(xy[0], xy[1]);
                assertThat(folded.clipGradients().clipped()).isTrue();
                inPlace.clipGradients();
                ta.step();
                tb.step();
                assertBitForBit(parameters(a), parameters(b), "parameters after step " + k);
            }
        }
    }

    /** A native DJL optimizer does not fold: the loop clips in place and steps, as it always did. */
    @Test
    void anOptimizerThatDoesNotFoldTrainsBitForBitAsClippingInPlaceThenStepping() {
        Map<String, Supplier<Optimizer>> natives = new LinkedHashMap<>();
        natives.put("sgd momentum", () -> Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f))
                .optMomentum(0.9f).optWeightDecays(0.01f).build());
        natives.put("adam", () -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build());
        natives.put("adamw rescale", () -> Optimizer.adamW().optLearningRateTracker(Tracker.fixed(0.01f))
                .setRescaleGrad(RESCALE).build());
        for (Map.Entry<String, Supplier<Optimizer>> e : natives.entrySet()) {
            try (NDManager m = NDManager.newBaseManager(); Model a = Model.newInstance("loop");
                    Model b = Model.newInstance("by hand");
                    Trainer ta = trainer(a, e.getValue().get());
                    Trainer tb = trainer(b, e.getValue().get())) {
                ClippedTrainer loop = ClippedTrainer.of(ta, Clippers.globalNorm(1.0));
                Clipper byHand = Clippers.globalNorm(1.0);
                assertThat(loop.isGradientScaleFolding()).as(e.getKey()).isFalse();
                Map<Integer, Boolean> clippedAt = new HashMap<>();
                for (int k = 0; k < STEPS; k++) {
                    NDList[] xy = batch(m, k);
                    double loss = loop.forwardBackward(xy[0], xy[1]);
                    List<float[]> raw = gradients(a);
                    ClipReport r = loop.clipGradients();
                    // the scaling is written into the gradients, as before folding existed
                    List<float[]> scaled = new ArrayList<>();
                    for (float[] g : raw) {
                        float[] s = g.clone();
                        for (int i = 0; i < s.length; i++) {
                            s[i] *= (float) r.coefficient();
                        }
                        scaled.add(s);
                    }
                    assertBitForBit(gradients(a), scaled, e.getKey() + ": gradients after clip " + k);
                    loop.update(loss, r);

                    try (GradientCollector collector = tb.newGradientCollector()) {
                        NDList preds = tb.forward(xy[0], xy[1]);
                        collector.backward(tb.getLoss().evaluate(xy[1], preds));
                    }
                    ClipReport expected;
                    try (DjlGradients g = DjlGradients.of(tb)) {
                        expected = byHand.clip(g);
                    }
                    tb.step();
                    assertThat(r).as("%s: report of step %d", e.getKey(), k).isEqualTo(expected);
                    assertBitForBit(parameters(a), parameters(b), e.getKey() + ": parameters after step " + k);
                    clippedAt.put(k, r.clipped());
                }
                assertThat(clippedAt).containsValues(true, false);
            }
        }
    }

    @Test
    void gradientScalesAreCheckedAndCopied() {
        DjlRmsProp rms = DjlRmsProp.builder().build();
        Map<String, Float> scales = new HashMap<>(Map.of("w", 0.25f));
        rms.setGradientScales(scales);
        scales.put("w", 3f);
        assertThat(rms.getGradientScale("w")).isEqualTo(0.25f);
        assertThat(rms.getGradientScale("other")).isEqualTo(1f);
        Map<String, Float> withNull = new HashMap<>();
        withNull.put("w", null);
        assertThatThrownBy(() -> rms.setGradientScales(withNull)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> rms.setGradientScales(null)).isInstanceOf(NullPointerException.class);
        assertThat(rms.getGradientScale("w")).as("unchanged by a refused call").isEqualTo(0.25f);
        rms.setGradientScales(Map.of());
        assertThat(rms.getGradientScale("w")).isEqualTo(1f);
    }
}
