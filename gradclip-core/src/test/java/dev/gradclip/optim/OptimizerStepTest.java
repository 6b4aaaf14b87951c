package dev.gradclip.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gradclip.Schedule;
import org.junit.jupiter.api.Test;

/**
 * Every optimizer against steps computed by hand from PyTorch's update rules (the constants in the
 * comments are the hand computation, rounded to 7 significant digits).
 */
class OptimizerStepTest {

    private static final double TOL = 2e-7;

    /** Runs the optimizer on one scalar parameter with the given gradients, returning θ after each step. */
    private static double[] run(Optimizer opt, double theta0, double... grads) {
        float[] p = {(float) theta0};
        double[] out = new double[grads.length];
        for (int i = 0; i < grads.length; i++) {
            opt.step(new float[][] {p}, new float[][] {{(float) grads[i]}});
            out[i] = p[0];
        }
        return out;
    }

    @Test
    void sgdSubtractsLearningRateTimesGradient() {
        // θ = 1 − 0.1·0.5 = 0.95, then 0.95 − 0.1·(−2) = 1.15
        assertThat(run(Optimizers.sgd(0.1), 1.0, 0.5, -2.0)).containsExactly(new double[] {0.95, 1.15},
                within(TOL));
    }

    @Test
    void sgdWithCoupledWeightDecayAddsLambdaTheta() {
        // g' = 0.5 + 0.1·1 = 0.6;  θ = 1 − 0.1·0.6 = 0.94
        assertThat(run(Optimizers.sgd(0.1).withWeightDecay(0.1), 1.0, 0.5)[0]).isCloseTo(0.94, within(TOL));
    }

    @Test
    void heavyBallMomentumAccumulatesTheBuffer() {
        // b1 = 1, θ1 = 0.9;  b2 = 0.9·1 + 1 = 1.9, θ2 = 0.9 − 0.19 = 0.71;
        // b3 = 0.9·1.9 − 1 = 0.71, θ3 = 0.71 − 0.071 = 0.639
        assertThat(run(Optimizers.momentum(0.1, 0.9), 1.0, 1, 1, -1))
                .containsExactly(new double[] {0.9, 0.71, 0.639}, within(TOL));
    }

    @Test
    void dampeningAppliesFromTheSecondStepOnly() {
        // PyTorch: b1 = g (no dampening), then b2 = 0.9·1 + 0.5·1 = 1.4;  θ2 = 0.9 − 0.14 = 0.76
        assertThat(run(Optimizers.momentum(0.1, 0.9).withDampening(0.5), 1.0, 1, 1))
                .containsExactly(new double[] {0.9, 0.76}, within(TOL));
    }

    @Test
    void nesterovLooksAhead() {
        // b1 = 1, u1 = 1 + 0.9·1 = 1.9, θ1 = 0.81;  b2 = 1.9, u2 = 1 + 0.9·1.9 = 2.71, θ2 = 0.539
        assertThat(run(Optimizers.nesterov(0.1, 0.9), 1.0, 1, 1))
                .containsExactly(new double[] {0.81, 0.539}, within(TOL));
    }

    @Test
    void rmsPropNormalisesByTheRootMeanSquare() {
        // v1 = 0.01, θ1 = 1 − 0.01·1/(0.1 + 1e-8) = 0.9000001
        // v2 = 0.0199, sqrt = 0.1410674, θ2 = 0.9000001 − 0.01/0.1410674 = 0.8291120
        assertThat(run(Optimizers.rmsProp(0.01), 1.0, 1, 1))
                .containsExactly(new double[] {0.9000001, 0.8291120}, within(TOL));
    }

    @Test
    void centeredRmsPropSubtractsTheSquaredMean() {
        // v = 0.01, a = 0.01, sqrt(0.01 − 0.0001) = 0.09949874, θ = 1 − 0.01/0.09949874 = 0.8994962
        assertThat(run(Optimizers.rmsProp(0.01).withCentered(true), 1.0, 1)[0]).isCloseTo(0.8994962, within(TOL));
    }

    @Test
    void rmsPropWithMomentumKeepsABufferOfNormalisedGradients() {
        // b1 = 1/0.10000001 = 9.999999, θ1 = 1 − 0.01·b1 = 0.9000000
        // b2 = 0.9·9.999999 + 1/0.1410674 = 16.088806, θ2 = 0.9 − 0.1608881 = 0.7391119
        assertThat(run(Optimizers.rmsProp(0.01).withMomentum(0.9), 1.0, 1, 1))
                .containsExactly(new double[] {0.9000001, 0.7391120}, within(TOL));
    }

    @Test
    void adamCorrectsTheBias() {
        // m1 = 0.1, v1 = 0.001: m̂ = 1, v̂ = 1, θ1 = 1 − 0.1·1/(1 + 1e-8) = 0.9
        // m2 = 0.09 − 0.1 = −0.01, v2 = 0.000999 + 0.001 = 0.001999: m̂ = −0.01/0.19 = −0.05263158,
        //   v̂ = 0.001999/0.001999 = 1,  θ2 = 0.9 + 0.1·0.05263158 = 0.9052632
        assertThat(run(Optimizers.adam(0.1), 1.0, 1, -1))
                .containsExactly(new double[] {0.9, 0.9052632}, within(TOL));
    }

    @Test
    void adamWDecaysTheWeightsApartFromTheGradient() {
        // θ·(1 − 0.1·0.01) = 0.999, then the Adam step of 0.1: 0.899
        assertThat(run(Optimizers.adamW(0.1), 1.0, 1)[0]).isCloseTo(0.899, within(TOL));
        // Adam's coupled decay instead feeds λθ into the moments; with one step m̂/sqrt(v̂) = sign(g')
        assertThat(run(Optimizers.adam(0.1).withWeightDecay(0.01), 1.0, 1)[0]).isCloseTo(0.9, within(TOL));
    }

    @Test
    void theScheduleAdvancesWithAppliedSteps() {
        Sgd sgd = Optimizers.sgd(Schedule.step(0.1, 2, 0.5));
        // rates 0.1, 0.1, 0.05, 0.05 on gradient 1
        assertThat(run(sgd, 1.0, 1, 1, 1, 1)).containsExactly(new double[] {0.9, 0.8, 0.75, 0.7}, within(TOL));
        assertThat(sgd.stepCount()).isEqualTo(4);
        assertThat(sgd.learningRate()).isEqualTo(0.025);
    }

    @Test
    void settingsOutOfRangeAreRejectedWithTheirName() {
        assertThatThrownBy(() -> Optimizers.sgd(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("learningRate").hasMessageContaining("-1");
        assertThatThrownBy(() -> Optimizers.momentum(0.1, 1.0)).hasMessageContaining("momentum");
        assertThatThrownBy(() -> Optimizers.adam(0.1).withBetas(0.9, 1.0)).hasMessageContaining("beta2");
        assertThatThrownBy(() -> Optimizers.rmsProp(0.1).withAlpha(Double.NaN)).hasMessageContaining("alpha");
        assertThatThrownBy(() -> Optimizers.sgd(0.1).withWeightDecay(Double.POSITIVE_INFINITY))
                .hasMessageContaining("weightDecay");
        assertThatThrownBy(() -> Optimizers.nesterov(0.1, 0.9).withDampening(0.1))
                .hasMessageContaining("Nesterov");
    }

    @Test
    void shapesMustStayTheSameAcrossSteps() {
        Optimizer adam = Optimizers.adam(0.1);
        adam.step(new float[][] {{1, 2}}, new float[][] {{1, 1}});
        assertThatThrownBy(() -> adam.step(new float[][] {{1, 2, 3}}, new float[][] {{1, 1, 1}}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("created for 2");
        assertThatThrownBy(() -> adam.step(new float[][] {{1}}, new float[][] {{1, 1}}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 parameters but 2 gradients");
    }

    @Test
    void aBadScheduleValueIsReportedWithItsStep() {
        Optimizer sgd = Optimizers.sgd(step -> step < 1 ? 0.1 : Double.NaN);
        sgd.step(new float[][] {{1}}, new float[][] {{1}});
        float[] p = {1};
        assertThatThrownBy(() -> sgd.step(new float[][] {p}, new float[][] {{1}}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("NaN at step 1");
        assertThat(p[0]).isEqualTo(1f);
        assertThat(sgd.stepCount()).isEqualTo(1);
    }
}
