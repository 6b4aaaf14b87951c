package dev.gradclip.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every clipper with every optimizer on a small least-squares problem: a clean run learns; a run with
 * a 100x spike and a NaN step (under {@code SKIP}) stays finite and skips the NaN step; and that run,
 * cut after the spike, saved, restored into fresh objects and continued, is bit-identical to the
 * uninterrupted run.
 */
class ClipperOptimizerMatrixTest {

    private static final int STEPS = 80;
    private static final int SPIKE = 30;
    private static final int NAN = 45;
    private static final int CUT = 37;

    private static final Map<String, Supplier<Clipper>> CLIPPERS = new java.util.LinkedHashMap<>();
    private static final Map<String, Supplier<Optimizer>> OPTIMIZERS = new java.util.LinkedHashMap<>();

    static {
        CLIPPERS.put("none", Clippers::none);
        CLIPPERS.put("value", () -> Clippers.value(0.5));
        CLIPPERS.put("norm", () -> Clippers.norm(0.5));
        CLIPPERS.put("global-norm", () -> Clippers.globalNorm(0.5));
        CLIPPERS.put("group-norm", () -> Clippers.groupNorm(0.5));
        CLIPPERS.put("agc", () -> Clippers.agc(0.1));
        CLIPPERS.put("autoclip", Clippers::autoClip);
        CLIPPERS.put("zclip", Clippers::zClip);
        CLIPPERS.put("adagc", () -> Clippers.adaGC().withWarmupSteps(20));
        CLIPPERS.put("spike-guard", () -> Clippers.spikeGuard(Clippers.globalNorm(1.0)));
        CLIPPERS.put("spike-guard(zclip, z)", () -> Clippers.spikeGuard(Clippers.zClip()).withZScore(4));
        CLIPPERS.put("scheduled", () -> Clippers.scheduled(Schedule.constant(1.0).withLinearWarmup(10)));

        OPTIMIZERS.put("sgd", () -> Optimizers.sgd(0.05));
        OPTIMIZERS.put("momentum", () -> Optimizers.momentum(0.02, 0.9));
        OPTIMIZERS.put("nesterov", () -> Optimizers.nesterov(0.02, 0.9));
        OPTIMIZERS.put("rmsprop", () -> Optimizers.rmsProp(0.01));
        OPTIMIZERS.put("rmsprop centered+momentum",
                () -> Optimizers.rmsProp(0.005).withCentered(true).withMomentum(0.5));
        OPTIMIZERS.put("adam", () -> Optimizers.adam(0.05));
        OPTIMIZERS.put("adamw cosine", () -> Optimizers.adamW(Schedule.cosine(0.05, STEPS, 0.005).withLinearWarmup(5)));
    }

    static Stream<Arguments> pairs() {
        List<Arguments> out = new ArrayList<>();
        CLIPPERS.forEach((c, cs) -> OPTIMIZERS.forEach((o, os) -> out.add(Arguments.of(c, o))));
        return out.stream();
    }

    private static TrainingStep make(String clipper, String optimizer) {
        return TrainingStep.of(CLIPPERS.get(clipper).get().withNonFinitePolicy(NonFinitePolicy.SKIP),
                OPTIMIZERS.get(optimizer).get());
    }

    private static StepReport step(TrainingStep s, LeastSquares p, int k, boolean faults) {
        p.gradients(k, faults && k == SPIKE ? 100 : 1, faults && k == NAN);
        return s.update(p.set);
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("pairs")
    void cleanRunLearns(String clipper, String optimizer) {
        LeastSquares p = new LeastSquares();
        TrainingStep s = make(clipper, optimizer);
        double before = p.loss();
        for (int k = 0; k < STEPS; k++) {
            assertThat(step(s, p, k, false).applied()).isTrue();
        }
        assertThat(p.loss()).isLessThan(before);
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("pairs")
    void faultyRunStaysFiniteAndResumesBitIdentically(String clipper, String optimizer) {
        LeastSquares a = new LeastSquares();
        TrainingStep sa = make(clipper, optimizer);
        List<StepReport> reports = new ArrayList<>();
        for (int k = 0; k < STEPS; k++) {
            reports.add(step(sa, a, k, true));
        }
        assertThat(reports.get(NAN).applied()).isFalse();
        if (clipper.startsWith("spike-guard")) {
            assertThat(reports.get(SPIKE).applied()).isFalse();
        }
        assertThat(sa.optimizer().stepCount()).isEqualTo(STEPS - sa.skippedSteps());
        for (float v : a.parameters()) {
            assertThat(Float.isFinite(v)).isTrue();
        }

        LeastSquares b = new LeastSquares();
        TrainingStep first = make(clipper, optimizer);
        for (int k = 0; k < CUT; k++) {
            step(first, b, k, true);
        }
        byte[] checkpoint = first.saveState();
        LeastSquares c = new LeastSquares();
        System.arraycopy(b.w, 0, c.w, 0, b.w.length);
        System.arraycopy(b.b, 0, c.b, 0, b.b.length);
        TrainingStep resumed = make(clipper, optimizer);
        resumed.restoreState(checkpoint);
        for (int k = CUT; k < STEPS; k++) {
            assertThat(step(resumed, c, k, true)).as("step %d", k).isEqualTo(reports.get(k));
        }
        assertThat(c.parameters()).isEqualTo(a.parameters());
        assertThat(resumed.saveState()).isEqualTo(sa.saveState());
    }
}
