package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import org.junit.jupiter.api.Test;

/**
 * What DJL's own {@code optClipGrad} does on the PyTorch engine, against gradclip's value clipping:
 * one SGD step (learning rate 1, weights from 0) on the gradient {@code [-100, -0.5, 3]} with the
 * threshold 1.
 *
 * <p>The model is a bias-free linear layer {@code y = w·x} with the loss {@code y} itself, so the
 * gradient of {@code w} is the input {@code x}; after one step {@code w = -lr·clip(x)}.
 * PyTorch's {@code clip_grad_value_(params, 1)} and Keras' {@code clipvalue=1} clamp the gradient
 * to {@code [-1, 1]}, giving {@code w = [1, 0.5, -1]}: gradclip's {@code Clippers.value(1)} does
 * that. DJL's {@code optClipGrad(1)} on PyTorch clamps only from above (the gradient becomes
 * {@code [-100, -0.5, 1]}), so the first weight moves by 100. The README states this measurement.
 */
class DjlClipGradTest {

    private static final float[] GRADIENT = {-100f, -0.5f, 3f};

    /** The loss is the prediction itself: its gradient with respect to {@code w} is the input. */
    private static final class PredictionLoss extends Loss {
        PredictionLoss() {
            super("prediction");
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            return predictions.singletonOrThrow().sum();
        }
    }

    private static Trainer trainer(Model model, Optimizer optimizer) {
        model.setBlock(Linear.builder().setUnits(1).optBias(false).build());
        Trainer trainer = model.newTrainer(new DefaultTrainingConfig(new PredictionLoss())
                .optInitializer(Initializer.ZEROS, Parameter.Type.WEIGHT)
                .optOptimizer(optimizer));
        trainer.initialize(new Shape(1, GRADIENT.length));
        return trainer;
    }

    private static float[] weights(Trainer trainer) {
        return trainer.getModel().getBlock().getParameters().get("weight").getArray().toFloatArray();
    }

    /** One step with DJL's SGD at learning rate 1, {@code optClipGrad(1)}, no other clipping. */
    @Test
    void djlsOptClipGradOnPyTorchClampsOnlyTheUpperSide() {
        try (Model model = Model.newInstance("djl-clip-grad");
                Trainer trainer = trainer(model, Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1f))
                        .optClipGrad(1f).build())) {
            NDManager m = trainer.getManager();
            NDList x = new NDList(m.create(GRADIENT, new Shape(1, GRADIENT.length)));
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList preds = trainer.forward(x);
                collector.backward(trainer.getLoss().evaluate(new NDList(), preds));
            }
            assertThat(trainer.getModel().getBlock().getParameters().get("weight").getArray().getGradient()
                    .toFloatArray()).containsExactly(GRADIENT);
            trainer.step();
            // -lr·g with g = [-100, -0.5, min(3, 1)]: the negative side is not clamped
            assertThat(weights(trainer)).containsExactly(100f, 0.5f, -1f);
        }
    }

    /** The same step with gradclip's value clipping at 1 and no clipping in DJL's optimizer. */
    @Test
    void gradclipsValueClipClampsBothSides() {
        try (Model model = Model.newInstance("gradclip-value");
                Trainer trainer = trainer(model, Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1f)).build())) {
            NDManager m = trainer.getManager();
            Clipper clipper = Clippers.value(1);
            StepResult r = ClippedTrainer.of(trainer, clipper).trainBatch(
                    new NDList(m.create(GRADIENT, new Shape(1, GRADIENT.length))), new NDList());
            assertThat(r.report().clipped()).isTrue();
            assertThat(weights(trainer)).containsExactly(1f, 0.5f, -1f);
        }
    }
}
