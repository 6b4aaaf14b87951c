package dev.gradclip.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.NormScope;
import dev.gradclip.Schedule;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused update (a clipper's factor applied inside the optimizer's pass) against the unfused path
 * (clip in place, then step) on random data: every optimizer with every clipper, under every
 * non-finite policy, with spikes and a non-finite step. Parameters, reports, optimizer moments and
 * clipper statistics must be bit for bit equal (NaN compared as NaN). Tagged {@code kernels}: the
 * unfused path scales with the kernels in force, so both kernels are checked.
 */
@Tag("kernels")
class FusedUpdateTest {

    private static final int STEPS = 40;
    private static final int[] SIZES = {1003, 37, 5};
    private static final int SPIKE_1 = 11;
    private static final int SPIKE_2 = 25;
    private static final int BAD = 17;

    private static final Map<String, Supplier<Clipper>> CLIPPERS = new LinkedHashMap<>();
    private static final Map<String, Supplier<Optimizer>> OPTIMIZERS = new LinkedHashMap<>();

    static {
        // the single-coefficient clippers the fusion is for
        CLIPPERS.put("global-norm", () -> Clippers.globalNorm(1.0));
        CLIPPERS.put("global-norm pytorch", () -> Clippers.globalNorm(1.0).withEpsilon(1e-6));
        CLIPPERS.put("autoclip", () -> Clippers.autoClip());
        CLIPPERS.put("zclip", () -> Clippers.zClip().withWarmupSteps(5));
        CLIPPERS.put("zclip skip-step", () -> Clippers.zClip().withWarmupSteps(5).withSkipStepOnSpike(true));
        CLIPPERS.put("scheduled", () -> Clippers.scheduled(Schedule.constant(1.0).withLinearWarmup(10)));
        CLIPPERS.put("spike-guard(global-norm)",
                () -> Clippers.spikeGuard(Clippers.globalNorm(1.0)).withWindow(20, 5));
        CLIPPERS.put("renormalize", () -> Clippers.renormalize(NormScope.GLOBAL));
        // per-tensor factors fuse too; the rest write in place and must be unaffected
        CLIPPERS.put("norm", () -> Clippers.norm(0.3));
        CLIPPERS.put("group-norm", () -> Clippers.groupNorm(0.3));
        CLIPPERS.put("adagc", () -> Clippers.adaGC().withWarmupSteps(5));
        CLIPPERS.put("value", () -> Clippers.value(0.02));
        CLIPPERS.put("agc", () -> Clippers.agc(0.05));
        CLIPPERS.put("none", Clippers::none);

        OPTIMIZERS.put("sgd", () -> Optimizers.sgd(0.05));
        OPTIMIZERS.put("sgd decay", () -> Optimizers.sgd(0.05).withWeightDecay(0.01));
        OPTIMIZERS.put("momentum", () -> Optimizers.momentum(0.02, 0.9));
        OPTIMIZERS.put("momentum dampened", () -> Optimizers.momentum(0.02, 0.9).withDampening(0.1));
        OPTIMIZERS.put("nesterov", () -> Optimizers.nesterov(0.02, 0.9).withWeightDecay(0.001));
        OPTIMIZERS.put("rmsprop", () -> Optimizers.rmsProp(0.01));
        OPTIMIZERS.put("rmsprop centered", () -> Optimizers.rmsProp(0.01).withCentered(true));
        OPTIMIZERS.put("rmsprop momentum", () -> Optimizers.rmsProp(0.01).withMomentum(0.5).withWeightDecay(0.01));
        OPTIMIZERS.put("rmsprop centered+momentum",
                () -> Optimizers.rmsProp(0.005).withCentered(true).withMomentum(0.5));
        OPTIMIZERS.put("adam", () -> Optimizers.adam(0.01));
        OPTIMIZERS.put("adam L2", () -> Optimizers.adam(0.01).withWeightDecay(0.01));
        OPTIMIZERS.put("adamw cosine", () -> Optimizers.adamW(Schedule.cosine(0.01, STEPS, 0.001).withLinearWarmup(5)));
    }

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        for (NonFinitePolicy policy : new NonFinitePolicy[] {NonFinitePolicy.SKIP, NonFinitePolicy.ZERO,
            NonFinitePolicy.PROPAGATE}) {
            CLIPPERS.forEach((c, cs) -> OPTIMIZERS.forEach((o, os) -> out.add(Arguments.of(c, o, policy))));
        }
        return out.stream();
    }

    /** A model of three tensors (lengths straddling the vector widths) and its gradient arrays. */
    static final class Problem {
        final float[][] params = new float[SIZES.length][];
        final float[][] grads = new float[SIZES.length][];
        final GradientSet set;

        Problem() {
            Random r = new Random(7);
            GradientSet.Builder b = GradientSet.builder();
            for (int t = 0; t < SIZES.length; t++) {
                params[t] = new float[SIZES[t]];
                grads[t] = new float[SIZES[t]];
                for (int i = 0; i < SIZES[t]; i++) {
                    params[t][i] = (float) r.nextGaussian();
                }
            }
            b.add("layer.weight", grads[0], params[0], 17, 59);
            b.add("layer.bias", grads[1], params[1], 37);
            b.add("head.weight", grads[2], params[2], 5);
            set = b.build();
        }

        /**
         * Fills the gradients of step k: Gaussian, times a per-step magnitude around a global norm of
         * 1 (so clipping turns on and off), times 100 at the spikes, with a non-finite value at
         * element 123 of the first tensor at step {@code badStep}.
         */
        void gradients(int k, int badStep, float bad) {
            Random r = new Random(1000 + k);
            double magnitude = 0.03 * Math.exp(0.7 * r.nextGaussian()) * (k == SPIKE_1 || k == SPIKE_2 ? 100 : 1);
            for (int t = 0; t < grads.length; t++) {
                double tensorScale = magnitude * (1 + t);
                for (int i = 0; i < grads[t].length; i++) {
                    grads[t][i] = (float) (tensorScale * r.nextGaussian());
                }
            }
            if (k == badStep) {
                grads[0][123] = bad;
            }
        }
    }

    @ParameterizedTest(name = "{0} + {1}, {2}")
    @MethodSource("matrix")
    void fusedEqualsUnfusedBitForBit(String clipperName, String optimizerName, NonFinitePolicy policy) {
        Problem a = new Problem();
        Problem b = new Problem();
        TrainingStep fused = TrainingStep.of(CLIPPERS.get(clipperName).get().withNonFinitePolicy(policy),
                OPTIMIZERS.get(optimizerName).get());
        TrainingStep unfused = TrainingStep.of(CLIPPERS.get(clipperName).get().withNonFinitePolicy(policy),
                OPTIMIZERS.get(optimizerName).get()).withFusion(false);
        assertThat(fused.fused()).isTrue();
        assertThat(unfused.fused()).isFalse();
        // under PROPAGATE an infinity near the end, so that several steps run on non-finite values
        float bad = policy == NonFinitePolicy.PROPAGATE ? Float.POSITIVE_INFINITY : Float.NaN;
        int badStep = policy == NonFinitePolicy.PROPAGATE ? STEPS - 4 : BAD;
        for (int k = 0; k < STEPS; k++) {
            a.gradients(k, badStep, bad);
            b.gradients(k, badStep, bad);
            float[][] raw = deepCopy(a.grads);
            StepReport ra = fused.update(a.set);
            StepReport rb = unfused.update(b.set);
            assertThat(ra).as("report of step %d", k).isEqualTo(rb);
            for (int t = 0; t < SIZES.length; t++) {
                assertThat(a.params[t]).as("parameters of tensor %d after step %d", t, k).isEqualTo(b.params[t]);
            }
            if (!ra.applied()) {
                // a skipped step: the gradients are untouched on both paths
                for (int t = 0; t < SIZES.length; t++) {
                    assertThat(a.grads[t]).isEqualTo(raw[t]).isEqualTo(b.grads[t]);
                }
            }
            if (policy != NonFinitePolicy.PROPAGATE || k < badStep) {
                assertThat(fused.optimizer().saveState()).as("optimizer state after step %d", k)
                        .isEqualTo(unfused.optimizer().saveState());
            }
            assertThat(fused.clipper().saveState()).isEqualTo(unfused.clipper().saveState());
        }
        if (policy != NonFinitePolicy.PROPAGATE) {
            assertThat(fused.saveState()).isEqualTo(unfused.saveState());
        }
        assertThat(fused.skippedSteps()).isEqualTo(unfused.skippedSteps());
        assertThat(fused.clippedSteps()).isEqualTo(unfused.clippedSteps());
        if (policy == NonFinitePolicy.SKIP) {
            assertThat(fused.skippedSteps()).isPositive();
        }
    }

    @Test
    void aFusedGlobalClipLeavesTheGradientsAsGivenAndTheUnfusedOneClipsThem() {
        Problem a = new Problem();
        Problem b = new Problem();
        TrainingStep fused = TrainingStep.of(Clippers.globalNorm(0.01), Optimizers.adamW(1e-3));
        TrainingStep unfused = TrainingStep.of(Clippers.globalNorm(0.01), Optimizers.adamW(1e-3)).withFusion(false);
        a.gradients(0, -1, Float.NaN);
        b.gradients(0, -1, Float.NaN);
        float[][] raw = deepCopy(a.grads);
        StepReport r = fused.update(a.set);
        unfused.update(b.set);
        assertThat(r.clipped()).isTrue();
        float c = (float) r.clip().coefficient();
        for (int t = 0; t < SIZES.length; t++) {
            assertThat(a.grads[t]).isEqualTo(raw[t]);
            float[] clipped = raw[t].clone();
            for (int i = 0; i < clipped.length; i++) {
                clipped[i] *= c;
            }
            assertThat(b.grads[t]).isEqualTo(clipped);
            assertThat(a.params[t]).isEqualTo(b.params[t]);
        }
    }

    @Test
    void aCoefficientBelowTheNormalFloatRangeIsWrittenInPlaceAndStillMatches() {
        // 3e38 values clipped to 1e-3: a coefficient near 1e-44, applied in several exact steps
        float[] pa = {1f, 2f, 3f};
        float[] pb = pa.clone();
        float[] ga = {3e38f, -3e38f, 1e38f};
        float[] gb = ga.clone();
        TrainingStep fused = TrainingStep.of(Clippers.globalNorm(1e-3), Optimizers.sgd(1.0));
        TrainingStep unfused = TrainingStep.of(Clippers.globalNorm(1e-3), Optimizers.sgd(1.0)).withFusion(false);
        StepReport r = fused.update(new float[][] {pa}, new float[][] {ga});
        unfused.update(new float[][] {pb}, new float[][] {gb});
        assertThat(r.clip().coefficient()).isLessThan(Float.MIN_NORMAL);
        assertThat(pa).isEqualTo(pb);
        assertThat(ga).isEqualTo(gb).doesNotContain(3e38f);
    }

    @Test
    void underThrowBothPathsThrowAndChangeNothing() {
        Problem a = new Problem();
        TrainingStep fused = TrainingStep.of(Clippers.globalNorm(0.01), Optimizers.adam(1e-3));
        a.gradients(BAD, BAD, Float.NaN);
        float[][] raw = deepCopy(a.grads);
        float[][] params = deepCopy(a.params);
        byte[] state = fused.saveState();
        assertThatThrownBy(() -> fused.update(a.set)).isInstanceOf(NonFiniteGradientException.class);
        assertThat(fused.saveState()).isEqualTo(state);
        for (int t = 0; t < SIZES.length; t++) {
            assertThat(a.grads[t]).isEqualTo(raw[t]);
            assertThat(a.params[t]).isEqualTo(params[t]);
        }
    }

    @Test
    void anOptimizerOfAnotherKindGetsGradientsClippedInPlace() {
        float[][] seen = new float[1][];
        Optimizer custom = new Optimizer() {
            private long steps;

            @Override
            public void step(float[][] parameters, float[][] gradients) {
                seen[0] = gradients[0].clone();
                steps++;
            }

            @Override
            public long stepCount() {
                return steps;
            }

            @Override
            public double learningRate() {
                return 0.1;
            }

            @Override
            public Schedule schedule() {
                return Schedule.constant(0.1);
            }

            @Override
            public String name() {
                return "custom";
            }

            @Override
            public void reset() {
                steps = 0;
            }

            @Override
            public byte[] saveState() {
                return new byte[0];
            }

            @Override
            public void restoreState(byte[] state) {
            }
        };
        TrainingStep step = TrainingStep.of(Clippers.globalNorm(1.0), custom);
        float[] g = {3f, 4f};
        step.update(new float[][] {{0f, 0f}}, new float[][] {g});
        assertThat(seen[0]).containsExactly(0.6f, 0.8f);
        assertThat(g).containsExactly(0.6f, 0.8f);
    }

    @Test
    void aSavedStateRestoresAcrossFusedAndUnfusedSteps() {
        Problem a = new Problem();
        Problem b = new Problem();
        TrainingStep fused = TrainingStep.of(Clippers.zClip().withWarmupSteps(5), Optimizers.adamW(1e-3));
        for (int k = 0; k < 10; k++) {
            a.gradients(k, -1, Float.NaN);
            b.gradients(k, -1, Float.NaN);
            fused.update(a.set);
        }
        TrainingStep unfused = TrainingStep.of(Clippers.zClip().withWarmupSteps(5), Optimizers.adamW(1e-3))
                .withFusion(false);
        unfused.restoreState(fused.saveState());
        for (int t = 0; t < SIZES.length; t++) {
            System.arraycopy(a.params[t], 0, b.params[t], 0, SIZES[t]);
        }
        for (int k = 10; k < 20; k++) {
            a.gradients(k, -1, Float.NaN);
            b.gradients(k, -1, Float.NaN);
            assertThat(fused.update(a.set)).isEqualTo(unfused.update(b.set));
        }
        for (int t = 0; t < SIZES.length; t++) {
            assertThat(a.params[t]).isEqualTo(b.params[t]);
        }
        assertThat(fused.saveState()).isEqualTo(unfused.saveState());
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = Arrays.copyOf(a[i], a[i].length);
        }
        return out;
    }
}
