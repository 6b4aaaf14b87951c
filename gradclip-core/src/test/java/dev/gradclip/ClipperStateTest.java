package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every clipper's state round-trips exactly, and a bad state is refused without changing anything. */
class ClipperStateTest {

    private static final Map<String, Supplier<Clipper>> CLIPPERS = new LinkedHashMap<>();

    static {
        CLIPPERS.put("global-norm", () -> Clippers.globalNorm(1.0));
        CLIPPERS.put("none", Clippers::none);
        CLIPPERS.put("autoclip", () -> Clippers.autoClip(25).withWindow(16));
        CLIPPERS.put("zclip", () -> Clippers.zClip().withWarmupSteps(10));
        CLIPPERS.put("zclip in warm-up", Clippers::zClip);
        CLIPPERS.put("adagc", () -> Clippers.adaGC().withWarmupSteps(8));
        CLIPPERS.put("spike-guard", () -> Clippers.spikeGuard(Clippers.zClip().withWarmupSteps(5)).withWindow(8, 4));
        CLIPPERS.put("scheduled", () -> Clippers.scheduled(Schedule.cosine(2, 40, 0.5)));
    }

    static Stream<Arguments> clippers() {
        return CLIPPERS.keySet().stream().map(Arguments::of);
    }

    private static GradientSet gradients(double n, int k) {
        return GradientSet.builder()
                .add("w", new float[] {(float) n, (float) (n * ((k % 3) - 1))}, 2)
                .add("b", new float[] {(float) (0.1 * k % 1)}, 1).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void aRestoredClipperContinuesBitIdentically(String name) {
        double[] seq = AdaptiveGoldenTest.sequence(60, 20, 21, 40);
        Clipper a = CLIPPERS.get(name).get();
        List<ClipReport> reports = new ArrayList<>();
        for (int k = 0; k < seq.length; k++) {
            reports.add(a.clip(gradients(seq[k], k)));
        }
        for (int cut : new int[] {0, 3, 15, 33}) {
            Clipper b = CLIPPERS.get(name).get();
            for (int k = 0; k < cut; k++) {
                b.clip(gradients(seq[k], k));
            }
            Clipper c = CLIPPERS.get(name).get();
            c.restoreState(b.saveState());
            assertThat(c.saveState()).isEqualTo(b.saveState());
            for (int k = cut; k < seq.length; k++) {
                assertThat(c.clip(gradients(seq[k], k))).as("cut %d step %d", cut, k).isEqualTo(reports.get(k));
            }
            assertThat(c.saveState()).isEqualTo(a.saveState());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void aStateOfAnotherKindOrCorruptIsRefusedAndChangesNothing(String name) {
        Clipper a = CLIPPERS.get(name).get();
        for (int k = 0; k < 12; k++) {
            a.clip(gradients(1 + k % 4, k));
        }
        byte[] state = a.saveState();
        Clipper other = name.equals("adagc") ? Clippers.zClip() : Clippers.adaGC();
        other.clip(gradients(1, 0));
        assertThatThrownBy(() -> a.restoreState(other.saveState())).isInstanceOf(IllegalArgumentException.class);
        if (state.length > 0) {
            assertThatThrownBy(() -> a.restoreState(java.util.Arrays.copyOf(state, state.length - 1)))
                    .isInstanceOf(IllegalArgumentException.class);
            byte[] longer = java.util.Arrays.copyOf(state, state.length + 8);
            assertThatThrownBy(() -> a.restoreState(longer)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(a.saveState()).isEqualTo(state);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void aChangedNonFinitePolicyStartsFresh(String name) {
        Clipper a = CLIPPERS.get(name).get();
        byte[] fresh = a.saveState();
        for (int k = 0; k < 12; k++) {
            a.clip(gradients(1 + k % 4, k));
        }
        Clipper b = a.withNonFinitePolicy(NonFinitePolicy.SKIP);
        assertThat(b.nonFinitePolicy()).isEqualTo(NonFinitePolicy.SKIP);
        assertThat(b.saveState()).isEqualTo(fresh);
        assertThat(b.method()).isEqualTo(a.method());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clippers")
    void aSkippedStepLeavesTheStatisticsAlone(String name) {
        Clipper a = CLIPPERS.get(name).get().withNonFinitePolicy(NonFinitePolicy.SKIP);
        for (int k = 0; k < 12; k++) {
            a.clip(gradients(1 + k % 4, k));
        }
        byte[] state = a.saveState();
        ClipReport r = a.clip(gradients(Double.NaN, 1));
        assertThat(r.skipped()).isTrue();
        assertThat(a.saveState()).isEqualTo(state);
    }
}
