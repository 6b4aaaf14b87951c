package dev.gradclip.lab.sequence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.djl.StepResult;
import dev.gradclip.faults.FaultInjectingClipper;
import dev.gradclip.faults.FaultInjector;
import dev.gradclip.faults.FaultTally;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** An RNN workload restored at step k continues exactly as one never interrupted. */
@Tag("training")
class RnnWorkloadStateTest {

    /** Global-norm clipping with SKIP, after injected faults; the injection step is the caller's to set. */
    private static FaultInjectingClipper clipper() {
        FaultInjector faults = FaultInjector.builder().seed(2).nonFiniteRate(0.2).spike(0.2, 50).build();
        return new FaultInjectingClipper(Clippers.globalNorm(0.5).withNonFinitePolicy(NonFinitePolicy.SKIP), faults,
                new FaultTally(), 0);
    }

    private static RnnWorkload workload(long seed, FaultInjectingClipper clipper) {
        return RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6).optBatchSize(4)
                .optInit(RnnInit.normal(0.3)).optSeed(seed)
                .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build())
                .optClipper(clipper)
                .build();
    }

    private static List<float[]> parameters(RnnWorkload w) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : w.getModel().getBlock().getParameters()) {
            NDArray a = p.getValue().getArray();
            out.add(a.toFloatArray());
        }
        return out;
    }

    @Test
    void aRestoredWorkloadContinuesBitForBit() {
        List<Double> losses = new ArrayList<>();
        List<float[]> expected;
        byte[] state;
        FaultInjectingClipper first = clipper();
        try (RnnWorkload a = workload(5, first)) {
            for (int i = 0; i < 6; i++) {
                a.trainBatch();
            }
            state = a.saveState();
            for (int i = 0; i < 6; i++) {
                losses.add(a.trainBatch().loss());
            }
            expected = parameters(a);
        }
        assertThat(first.tally().nonFiniteInjected() + first.tally().spikesInjected()).isPositive();
        FaultInjectingClipper second = clipper();
        try (RnnWorkload b = workload(5, second)) {
            b.restoreState(state);
            second.atStep(6);
            for (int i = 0; i < 6; i++) {
                StepResult r = b.trainBatch();
                assertThat(r.loss()).isEqualTo(losses.get(i));
            }
            List<float[]> actual = parameters(b);
            for (int i = 0; i < actual.size(); i++) {
                assertThat(actual.get(i)).isEqualTo(expected.get(i));
            }
            assertThatThrownBy(() -> b.restoreState(new byte[5])).hasMessageContaining("truncated");
            byte[] hostile = state.clone();
            java.nio.ByteBuffer.wrap(hostile).putInt(8, Integer.MAX_VALUE);
            assertThatThrownBy(() -> b.restoreState(hostile)).hasMessageContaining("corrupt");
        }
    }
}
