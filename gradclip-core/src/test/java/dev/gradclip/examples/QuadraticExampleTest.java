package dev.gradclip.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QuadraticExampleTest {

    @Test
    void theSeedTrajectoryStepsByTheClippedGradientThenContractsByFourFifths() {
        double[] xs = QuadraticExample.trajectory(1.0, QuadraticExample.gradientDescent(0.1, 1.0), 100);
        assertThat(xs).hasSize(101);
        // while 2x > 1 the gradient is clipped to 1: x falls by exactly 0.1 (in float arithmetic)
        float x = 1f;
        for (int i = 0; i <= 5; i++) {
            assertThat(xs[i]).isEqualTo((double) x);
            assertThat(xs[i]).isCloseTo(1.0 - 0.1 * i, org.assertj.core.api.Assertions.within(1e-6));
            x = (float) (x - 0.1 * Math.min(2 * x, 1.0f));
        }
        // then x ← x − 0.1·2x = 0.8x
        for (int i = 6; i <= 100; i++) {
            assertThat(xs[i]).isEqualTo((double) (float) (xs[i - 1] - 0.1 * (float) (2 * (float) xs[i - 1])));
            assertThat(xs[i] / xs[i - 1]).isCloseTo(0.8, org.assertj.core.api.Assertions.within(1e-6));
        }
        assertThat(xs[10]).isCloseTo(0.5 * Math.pow(0.8, 5), org.assertj.core.api.Assertions.within(1e-7));
    }

    @Test
    void fromAHugeStartUnclippedDivergesAndClippedMovesByAtMostEtaC() {
        double eta = 1.5;
        double[] free = QuadraticExample.trajectory(1e6, QuadraticExample.gradientDescent(eta, Double.NaN), 100);
        for (int i = 1; i <= 100; i++) {
            assertThat(free[i]).isEqualTo(-2 * free[i - 1]); // x ← (1 − 2η)x, exact in binary
        }
        assertThat(Math.abs(free[100])).isGreaterThan(1e36);

        double[] clipped = QuadraticExample.trajectory(1e6, QuadraticExample.gradientDescent(eta, 1.0), 100);
        for (int i = 1; i <= 100; i++) {
            assertThat(clipped[i - 1] - clipped[i]).isEqualTo(eta); // every step is exactly η·c downhill
        }
    }

    @Test
    void clippedLargeStepsReachTheMinimumAndStayWithinEtaC() {
        double eta = 1.5;
        int reach = (int) Math.ceil((1e6 - 0.5) / eta);
        double[] xs = QuadraticExample.trajectory(1e6, QuadraticExample.gradientDescent(eta, 1.0), reach + 1000);
        for (int i = 1; i < xs.length; i++) {
            assertThat(Math.abs(xs[i] - xs[i - 1])).isLessThanOrEqualTo(eta);
            assertThat(Math.abs(xs[i])).isLessThanOrEqualTo(Math.abs(xs[i - 1]) + eta);
        }
        // bounded around the minimum for the last 1000 steps, where unclipped steps would double |x|
        for (int i = reach; i < xs.length; i++) {
            assertThat(Math.abs(xs[i])).isLessThanOrEqualTo(eta);
        }
    }

    @Test
    void mainPrintsEveryTenthIteration() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            QuadraticExample.main(new String[0]);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("     0  1.00000").contains("    10  0.163840").contains("   100  999850")
                .contains("unclipped: x = -Infinity at iteration 109, NaN at 110")
                .contains("clipped: |x| <= eta*c = 1.5 from iteration 666666 on");
    }
}
