package dev.gradclip.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.GradientSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultInjectorTest {

    private static GradientSet gradients(float[] w, float[] b, float[] empty) {
        return GradientSet.builder().add("fc.weight", w, 4, 3).add("empty", empty, 0).add("fc.bias", b, 4).build();
    }

    private static GradientSet fresh() {
        float[] w = new float[12];
        float[] b = new float[4];
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.5f + i;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = -1.5f - i;
        }
        return gradients(w, b, new float[0]);
    }

    private static List<Injection> run(FaultInjector f, long from, long to) {
        List<Injection> out = new ArrayList<>();
        for (long step = from; step < to; step++) {
            out.add(f.inject(step, fresh()));
        }
        return out;
    }

    @Test
    void nonFiniteValuesArriveAtTheGivenRateOneElementAtATime() {
        FaultInjector f = FaultInjector.builder().seed(11).nonFiniteRate(0.1).build();
        int injected = 0;
        Set<String> kinds = new HashSet<>();
        Set<String> tensors = new HashSet<>();
        for (long step = 0; step < 3000; step++) {
            GradientSet g = fresh();
            Injection inj = f.inject(step, g);
            long bad = g.nonFiniteCount(0) + g.nonFiniteCount(1) + g.nonFiniteCount(2);
            assertThat(bad).isEqualTo(inj.hasNonFinite() ? 1 : 0);
            assertThat(inj.spiked()).isFalse();
            if (inj.hasNonFinite()) {
                injected++;
                assertThat(Float.floatToIntBits(g.get(inj.nonFiniteTensor(), inj.nonFiniteIndex())))
                        .isEqualTo(Float.floatToIntBits(inj.nonFiniteValue()));
                assertThat(g.name(inj.nonFiniteTensor())).isEqualTo(inj.nonFiniteName()).isNotEqualTo("empty");
                kinds.add(Float.toString(inj.nonFiniteValue()));
                tensors.add(inj.nonFiniteName());
            }
        }
        // binomial(3000, 0.1): mean 300, standard deviation 16.4; the seed is fixed, the bound is 4 sd
        assertThat(injected).isBetween(234, 366);
        assertThat(kinds).containsExactlyInAnyOrder("NaN", "Infinity", "-Infinity");
        assertThat(tensors).containsExactlyInAnyOrder("fc.weight", "fc.bias");
    }

    @Test
    void aSpikeMultipliesExactlyOneTensorByTheScale() {
        FaultInjector f = FaultInjector.builder().seed(3).spike(0.25, 100).build();
        GradientSet clean = fresh();
        int spikes = 0;
        for (long step = 0; step < 400; step++) {
            GradientSet g = fresh();
            Injection inj = f.inject(step, g);
            assertThat(inj.hasNonFinite()).isFalse();
            for (int t = 0; t < 3; t++) {
                float factor = inj.spiked() && t == inj.spikeTensor() ? 100f : 1f;
                for (int i = 0; i < g.size(t); i++) {
                    assertThat(g.gradient(t)[i]).isEqualTo(clean.gradient(t)[i] * factor);
                }
            }
            if (inj.spiked()) {
                spikes++;
                assertThat(inj.spikeScale()).isEqualTo(100.0);
                assertThat(inj.spikeName()).isIn("fc.weight", "fc.bias");
            }
        }
        // binomial(400, 0.25): mean 100, sd 8.7
        assertThat(spikes).isBetween(65, 135);
    }

    @Test
    void aSpikeOnAllTensorsMultipliesTheWholeGradient() {
        FaultInjector f = FaultInjector.builder().spike(1.0, 1e3).spikeAllTensors(true).build();
        GradientSet g = fresh();
        Injection inj = f.inject(0, g);
        assertThat(inj.spikeName()).isEqualTo("*");
        assertThat(g.gradient(0)[11]).isEqualTo(11.5f * 1000f);
        assertThat(g.gradient(2)[0]).isEqualTo(-1.5f * 1000f);
    }

    @Test
    void theSameSeedAndStepGiveTheSameFaultsWhateverCameBefore() {
        FaultInjector f = FaultInjector.builder().seed(42).nonFiniteRate(0.3).spike(0.3, 50).build();
        List<Injection> whole = run(f, 0, 200);
        List<Injection> resumed = run(FaultInjector.builder().seed(42).nonFiniteRate(0.3).spike(0.3, 50).build(),
                120, 200);

        assertThat(run(f, 0, 200)).isEqualTo(whole);
        assertThat(resumed).isEqualTo(whole.subList(120, 200));
        assertThat(run(FaultInjector.builder().seed(43).nonFiniteRate(0.3).spike(0.3, 50).build(), 0, 200))
                .isNotEqualTo(whole);
    }

    @Test
    void addingSpikesDoesNotMoveTheNonFiniteFaults() {
        List<Injection> alone = run(FaultInjector.builder().seed(5).nonFiniteRate(0.2).build(), 0, 100);
        List<Injection> both = run(FaultInjector.builder().seed(5).nonFiniteRate(0.2).spike(0.5, 10).build(), 0, 100);
        for (int i = 0; i < alone.size(); i++) {
            assertThat(both.get(i).nonFiniteName()).isEqualTo(alone.get(i).nonFiniteName());
            assertThat(both.get(i).nonFiniteIndex()).isEqualTo(alone.get(i).nonFiniteIndex());
        }
    }

    @Test
    void rateZeroInjectsNothingAndRateOneEveryStep() {
        assertThat(run(FaultInjector.builder().seed(1).build(), 0, 50)).noneMatch(Injection::any);
        assertThat(run(FaultInjector.builder().seed(1).nonFiniteRate(1).spike(1, 2).build(), 0, 50))
                .allMatch(i -> i.hasNonFinite() && i.spiked());
        Injection none = FaultInjector.builder().nonFiniteRate(1).build()
                .inject(0, GradientSet.builder().add("e", new float[0], 0).build());
        assertThat(none.any()).isFalse();
        assertThat(none.toString()).isEqualTo("step 0: nothing injected");
    }

    @Test
    void badSettingsNameTheArgument() {
        assertThatThrownBy(() -> FaultInjector.builder().nonFiniteRate(1.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("nonFiniteRate must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> FaultInjector.builder().nonFiniteRate(Double.NaN))
                .hasMessage("nonFiniteRate must be in [0, 1], got NaN");
        assertThatThrownBy(() -> FaultInjector.builder().spike(-0.1, 10))
                .hasMessage("spikeRate must be in [0, 1], got -0.1");
        assertThatThrownBy(() -> FaultInjector.builder().spike(0.1, 0))
                .hasMessage("spike scale must be finite and > 0, got 0.0");
        assertThatThrownBy(() -> FaultInjector.builder().spike(0.1, Double.POSITIVE_INFINITY))
                .hasMessage("spike scale must be finite and > 0, got Infinity");
        assertThatThrownBy(() -> FaultInjector.builder().build().inject(-1, fresh()))
                .hasMessage("step must be >= 0, got -1");
    }

    @Test
    void gradientSetSetWritesOneElementAndChecksBounds() {
        GradientSet g = fresh();
        g.set(2, 3, Float.NEGATIVE_INFINITY);
        assertThat(g.gradient(2)).containsExactly(-1.5f, -2.5f, -3.5f, Float.NEGATIVE_INFINITY);
        assertThatThrownBy(() -> g.set(2, 4, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> g.set(2, -1, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> g.set(2, Long.MAX_VALUE, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> g.set(3, 0, 0f)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
