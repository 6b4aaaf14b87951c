package dev.gradclip.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gradclip.Schedule;
import org.junit.jupiter.api.Test;

class ScheduleTest {

    @Test
    void stepDecayMultipliesByGammaEveryStepSize() {
        Schedule s = Schedule.step(1.0, 10, 0.1);
        assertThat(s.valueAt(0)).isEqualTo(1.0);
        assertThat(s.valueAt(9)).isEqualTo(1.0);
        assertThat(s.valueAt(10)).isCloseTo(0.1, within(1e-15));
        assertThat(s.valueAt(25)).isCloseTo(0.01, within(1e-15));
    }

    @Test
    void cosineFallsFromInitialToMinimumAndStaysThere() {
        Schedule s = Schedule.cosine(1.0, 100, 0.1);
        assertThat(s.valueAt(0)).isEqualTo(1.0);
        assertThat(s.valueAt(50)).isCloseTo(0.55, within(1e-12));
        assertThat(s.valueAt(25)).isCloseTo(0.1 + 0.9 * (1 + Math.sqrt(0.5)) / 2, within(1e-12));
        assertThat(s.valueAt(100)).isEqualTo(0.1);
        assertThat(s.valueAt(1000)).isEqualTo(0.1);
    }

    @Test
    void linearWarmupRampsFromTheFirstStep() {
        Schedule s = Schedule.constant(2.0).withLinearWarmup(4);
        assertThat(new double[] {s.valueAt(0), s.valueAt(1), s.valueAt(2), s.valueAt(3), s.valueAt(4)})
                .containsExactly(0.5, 1.0, 1.5, 2.0, 2.0);
        Schedule c = Schedule.cosine(1.0, 10, 0).withLinearWarmup(2);
        assertThat(c.valueAt(0)).isEqualTo(0.5);
        assertThat(c.valueAt(5)).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> Schedule.constant(Double.NaN)).hasMessageContaining("value");
        assertThatThrownBy(() -> Schedule.step(1, 0, 0.1)).hasMessageContaining("stepSize");
        assertThatThrownBy(() -> Schedule.step(1, 1, 0)).hasMessageContaining("gamma");
        assertThatThrownBy(() -> Schedule.cosine(1, 0, 0)).hasMessageContaining("totalSteps");
        assertThatThrownBy(() -> Schedule.constant(1).withLinearWarmup(0)).hasMessageContaining("warmupSteps");
    }
}
