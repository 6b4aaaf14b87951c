package dev.gradclip.lab.sequence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.gradclip.ClipReport;
import dev.gradclip.Clippers;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.djl.DjlGradients;
import dev.gradclip.djl.StepResult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The RNN workload's steps through gradclip-djl's {@code ClippedTrainer}: true skipping, the THROW
 * policy, parameter names and groups, no leaked arrays, reproducibility, a step in parts.
 */
@Tag("training")
class RnnWorkloadStepTest {

    /** Every parameter of the model, concatenated in the block's order. */
    private static float[] parameters(Model model) {
        NDList all = new NDList();
        model.getBlock().getParameters().values().forEach(p -> all.add(p.getArray().flatten()));
        try (NDArray concatenated = NDArrays.concat(all)) {
            float[] values = concatenated.toFloatArray();
            all.close();
            return values;
        }
    }

    private static RnnWorkload smallRnn() {
        return RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6).optBatchSize(4)
                .optInit(RnnInit.normal(0.3)).optSeed(9)
                .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build())
                .optClipper(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP))
                .optBeforeClip(RnnWorkloadStepTest::poisonSecondStep)
                .build();
    }

    private static int calls;

    private static void poisonSecondStep(DjlGradients g) {
        if (calls++ == 1) {
            g.set(1, 3, Float.NaN);
        }
    }

    @Test
    void skippedStepLeavesParametersAndAdamStateExactlyAsIfTheBatchNeverCame() {
        float[] skipped;
        try (RnnWorkload w = smallRnn()) {
            calls = 0;
            w.trainBatch(w.batch(0));
            float[] beforeSkip = parameters(w.getModel());
            StepResult r = w.trainBatch(w.batch(1));
            assertThat(r.skipped()).isTrue();
            assertThat(r.report().nonFiniteCount()).isEqualTo(1);
            assertThat(r.report().firstNonFiniteIndex()).isEqualTo(3);
            assertThat(parameters(w.getModel())).as("parameters untouched by the skipped step")
                    .containsExactly(beforeSkip);
            DjlGradients g = w.gradients();
            double[] norms = new double[g.tensorCount()];
            g.norms(2.0, norms);
            assertThat(norms).as("gradients cleared, nothing leaks into the next step").containsOnly(0.0);
            w.trainBatch(w.batch(2));
            skipped = parameters(w.getModel());
            assertThat(w.getLoop().getSkippedSteps()).isEqualTo(1);
        }
        try (RnnWorkload w = smallRnn()) {
            calls = 5; // no poison
            w.trainBatch(w.batch(0));
            w.trainBatch(w.batch(2));
            // Adam's moments and step counter saw two updates in both runs: bit-identical parameters
            assertThat(parameters(w.getModel())).containsExactly(skipped);
        }
    }

    @Test
    void throwPolicyNamesTheDjlParameterAndAppliesNoStep() {
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6)
                .optBatchSize(4).optClipper(Clippers.globalNorm(1.0))
                .optBeforeClip(g -> g.set(1, 7, Float.POSITIVE_INFINITY)).build()) {
            float[] before = parameters(w.getModel());
            assertThatThrownBy(w::trainBatch).isInstanceOfSatisfying(NonFiniteGradientException.class, e -> {
                assertThat(e.tensorName()).isEqualTo("01RNN_l_0_h2h_WEIGHT");
                assertThat(e.elementIndex()).isEqualTo(7);
            });
            assertThat(parameters(w.getModel())).containsExactly(before);
        }
    }

    @Test
    void namesAndGroupsFollowTheBlockStructure() {
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.TEMPORAL_ORDER).optLength(8)
                .optHiddenSize(6).optBatchSize(4).build()) {
            DjlGradients g = w.gradients();
            assertThat(w.parameterNames()).containsExactly("01RNN_l_0_i2h_WEIGHT", "01RNN_l_0_h2h_WEIGHT",
                    "01RNN_l_0_i2h_BIAS", "01RNN_l_0_h2h_BIAS", "03Linear_weight", "03Linear_bias");
            assertThat(g.group(1)).isEqualTo("01RNN");
            assertThat(g.group(4)).isEqualTo("03Linear");
            assertThat(w.outputParameterNames()).containsExactly("03Linear_weight", "03Linear_bias");
            assertThat(g.shape(1)).containsExactly(6, 6);
            assertThat(g.unitCount(1)).isEqualTo(6);
        }
    }

    @Test
    void clippingLeavesNoOpenArraysBehind() {
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6)
                .optBatchSize(4).optInit(RnnInit.normal(0.3)).build()) {
            double loss = w.forwardBackward(w.batch(0));
            NDManager system;
            try (NDManager probe = NDManager.newBaseManager()) {
                system = probe.getParentManager();
            }
            int initial = system.getManagedArrays().size();
            // the first round may keep one gradient handle per tensor for the next steps (DjlGradients
            // reuses a CPU gradient's handle while its parameter's tensor is the same); no round after
            // it may leave anything behind
            int before = -1;
            for (int i = 0; i < 101; i++) {
                DjlGradients g = w.gradients();
                Clippers.globalNorm(1e-3).withNormType(3.0).clip(g);
                Clippers.value(1e-4).clip(g);
                Clippers.agc(0.01).clip(g);
                g.set(0, 1, Float.NaN);
                Clippers.groupNorm(1e-3).withNonFinitePolicy(NonFinitePolicy.ZERO).clip(g);
                g.firstNonFinite(0);
                g.close();
                if (i == 0) {
                    before = system.getManagedArrays().size();
                }
            }
            int tensors;
            try (DjlGradients g = w.gradients()) {
                tensors = g.tensorCount();
            }
            assertThat(before).as("arrays kept after the first round").isLessThanOrEqualTo(initial + tensors);
            assertThat(system.getManagedArrays()).as("open NDArrays after 500 more clip calls").hasSize(before);
            w.update(loss, w.clipGradients());
        }
    }

    @Test
    void workloadIsReproducible() {
        double[] a = losses();
        double[] b = losses();
        assertThat(a).containsExactly(b);
        assertThat(a[0]).isNotEqualTo(a[1]);
    }

    private static double[] losses() {
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.MULTIPLICATION).optLength(10)
                .optHiddenSize(8).optBatchSize(5).optSeed(4).optInit(RnnInit.smartTanh())
                .optClipper(Clippers.globalNorm(1.0)).build()) {
            double[] out = new double[5];
            for (int i = 0; i < out.length; i++) {
                out[i] = w.trainBatch().loss();
            }
            return out;
        }
    }

    @Test
    void partsOfAStepMatchAWholeStep() {
        float[] whole;
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6)
                .optBatchSize(4).optInit(RnnInit.normal(0.3)).optClipper(Clippers.globalNorm(0.1)).build()) {
            w.trainBatch(w.batch(0));
            whole = parameters(w.getModel());
        }
        try (RnnWorkload w = RnnWorkload.builder().setTask(SequenceTask.ADDING).optLength(8).optHiddenSize(6)
                .optBatchSize(4).optInit(RnnInit.normal(0.3)).optClipper(Clippers.globalNorm(0.1)).build()) {
            double loss = w.forwardBackward(w.batch(0));
            ClipReport report = w.clipGradients();
            assertThat(report.clipped()).isTrue();
            assertThat(w.update(loss, report).skipped()).isFalse();
            assertThat(parameters(w.getModel())).containsExactly(whole);
        }
    }
}
