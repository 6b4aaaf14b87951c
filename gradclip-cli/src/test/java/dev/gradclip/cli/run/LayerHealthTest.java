package dev.gradclip.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerHealthTest {

    /** A diverged RNN run: the output layer climbs to 2e4 (reference about 20) before the run stops. */
    @Test
    void namesTheLayerThatClimbedBeforeDivergence() {
        int n = 120;
        double[] rnn = new double[n];
        double[] out = new double[n];
        for (int s = 0; s < n; s++) {
            rnn[s] = s < 80 ? 30 : 1e-3;
            out[s] = s < 80 ? 10 : Math.min(2e4, 10 * Math.pow(1.5, s - 80));
        }
        LayerHealth h = new LayerHealth(List.of("rnn.weight_hh", "output.weight"), new double[][] {rnn, out}, n);
        assertThat(h.reference()).isEqualTo(20.0);
        assertThat(h.exploding()).containsExactly("output.weight");
        assertThat(h.vanishing()).containsExactly("rnn.weight_hh");
    }

    /** The old rule compared the last tenth with the first: a burst followed by a collapse went unnamed. */
    @Test
    void namesABurstThatCollapsedAgain() {
        int n = 200;
        double[] a = new double[n];
        Arrays.fill(a, 3);
        for (int s = 8; s < 15; s++) {
            a[s] = 1e10;
        }
        for (int s = 15; s < n; s++) {
            a[s] = 0.1;
        }
        LayerHealth h = new LayerHealth(List.of("linear1.weight"), new double[][] {a}, n);
        assertThat(h.exploding()).containsExactly("linear1.weight");
    }

    @Test
    void aLoneSpikeAndNormalNoiseAreNotExplosions() {
        int n = 400;
        double[] a = new double[n];
        double[] b = new double[n];
        for (int s = 0; s < n; s++) {
            a[s] = 0.6 * (1 + 0.5 * Math.sin(s));
            b[s] = 0.05 * (1 + 0.5 * Math.cos(s));
        }
        a[200] = 4.8e14;
        LayerHealth h = new LayerHealth(List.of("a", "b"), new double[][] {a, b}, n);
        assertThat(h.exploding()).isEmpty();
        assertThat(h.vanishing()).isEmpty();
    }

    @Test
    void nonFiniteNormsExplodeAndUniformShrinkingIsConvergence() {
        double[] a = {1, 1, 0.1, 1e-3, 1e-6, 1e-7, 1e-8, 1e-9, 1e-9, 1e-9};
        assertThat(new LayerHealth(List.of("x"), new double[][] {a}, a.length).vanishing()).isEmpty();
        double[] b = {1, 1, Double.NaN, 1};
        assertThat(new LayerHealth(List.of("x"), new double[][] {b}, b.length).exploding()).containsExactly("x");
        assertThat(new LayerHealth(List.of(), new double[0][], 0).exploding()).isEmpty();
    }
}
