package dev.gradclip.cli.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OptimizerSpecTest {

    @Test
    void parsesEveryOptimizer() {
        assertThat(OptimizerSpec.parse("sgd:lr=0.1").learningRate(1)).isEqualTo(0.1);
        OptimizerSpec m = OptimizerSpec.parse("momentum:lr=0.01,beta=0.95");
        assertThat(m.name()).isEqualTo("momentum");
        assertThat(m.parameters().number("beta", 0)).isEqualTo(0.95);
        assertThat(OptimizerSpec.parse("nesterov:lr=0.01").name()).isEqualTo("nesterov");
        OptimizerSpec r = OptimizerSpec.parse("rmsprop:lr=0.001,alpha=0.9,centered,momentum=0.5");
        assertThat(r.parameters().flag("centered", false)).isTrue();
        assertThat(r.parameters().number("momentum", 0)).isEqualTo(0.5);
        assertThat(OptimizerSpec.parse("adam:lr=1e-3,beta1=0.8,beta2=0.99,eps=1e-7").parameters().number("beta2", 0))
                .isEqualTo(0.99);
        assertThat(OptimizerSpec.parse("adamw:lr=1e-3,wd=0.1").parameters().number("wd", 0)).isEqualTo(0.1);
        assertThat(OptimizerSpec.parse("sgd:lr=0.1,schedule=cosine,warmup=10").parameters().word("schedule", ""))
                .isEqualTo("cosine");
    }

    @Test
    void fillsInTheTasksLearningRate() {
        assertThat(OptimizerSpec.parse("adam").withDefaultLearningRate(0.002).text()).isEqualTo("adam:lr=0.002");
        assertThat(OptimizerSpec.parse("adam:beta1=0.8").withDefaultLearningRate(0.002).text())
                .isEqualTo("adam:beta1=0.8,lr=0.002");
        assertThat(OptimizerSpec.parse("sgd:lr=0.5").withDefaultLearningRate(0.002).learningRate(0)).isEqualTo(0.5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "lbfgs", "sgd:lr=0", "sgd:lr=-1", "sgd:beta=0.9", "momentum:beta=1.5", "adam:lr=x",
        "sgd:schedule=exp", "sgd:schedule=step", "sgd:warmup=0"})
    void rejectsBadSpecs(String spec) {
        assertThatThrownBy(() -> OptimizerSpec.parse(spec)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spec");
    }
}
