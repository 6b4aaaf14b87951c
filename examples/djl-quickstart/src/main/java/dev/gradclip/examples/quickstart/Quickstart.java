package dev.gradclip.examples.quickstart;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import dev.gradclip.djl.GcSafeL2Loss;
import dev.gradclip.djl.GradientClipListener;
import java.io.IOException;
import java.util.Locale;

/**
 * A small MLP learns {@code y = 2·x1 − 3.4·x2 + 1.5·x3 + 4 + noise} from 1,000 synthetic rows, with
 * every batch's gradients clipped to a global L2 norm of at most 1 (Keras' {@code global_clipnorm=1},
 * PyTorch's {@code clip_grad_norm_(params, 1)}). The targets are far from the first predictions, so
 * the first gradients are far above the threshold and get clipped.
 */
public final class Quickstart {

    /**
     * What a training did.
     *
     * @param mseBefore    the mean squared error on the training rows before training
     * @param mseAfter     the same after training
     * @param steps        the steps trained
     * @param clippedSteps the steps whose gradients were clipped
     */
    public record Result(double mseBefore, double mseAfter, long steps, long clippedSteps) {
    }

    private Quickstart() {
    }

    /**
     * Trains the model, clipping with gradclip.
     *
     * @param epochs the passes over the data
     * @return what the training did
     * @throws IOException        if a batch cannot be read
     * @throws TranslateException if a batch cannot be prepared
     */
    public static Result train(int epochs) throws IOException, TranslateException {
        int rows = 1000;
        int batchSize = 20;
        try (NDManager manager = NDManager.newBaseManager(); Model model = Model.newInstance("quickstart")) {
            manager.getEngine().setRandomSeed(1);
            NDArray x = manager.randomNormal(new Shape(rows, 3));
            NDArray y = x.matMul(manager.create(new float[] {2f, -3.4f, 1.5f}, new Shape(3, 1))).add(4f)
                    .add(manager.randomNormal(0f, 0.01f, new Shape(rows, 1), x.getDataType()));
            ArrayDataset data = new ArrayDataset.Builder().setData(x).optLabels(y)
                    .setSampling(batchSize, true).build();
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(16).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));

            // gradclip: one listener clips every batch after backward, before the update
            GradientClipListener clip = GradientClipListener.globalNorm(1.0);
            DefaultTrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).build())
                    .addTrainingListeners(clip);

            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(batchSize, 3));
                double before = mse(trainer, x, y);
                EasyTrain.fit(trainer, epochs, data, null);
                return new Result(before, mse(trainer, x, y), clip.getSteps(), clip.getClippedSteps());
            }
        }
    }

    private static double mse(Trainer trainer, NDArray x, NDArray y) {
        return trainer.evaluate(new NDList(x)).singletonOrThrow().sub(y).square().mean().getFloat();
    }

    /**
     * Trains for 10 epochs and prints what happened.
     *
     * @param args ignored
     * @throws IOException        if a batch cannot be read
     * @throws TranslateException if a batch cannot be prepared
     */
    public static void main(String[] args) throws IOException, TranslateException {
        Result r = train(10);
        System.out.printf(Locale.ROOT, "mean squared error %.4f -> %.4f; %d of %d steps clipped%n",
                r.mseBefore(), r.mseAfter(), r.clippedSteps(), r.steps());
    }
}
