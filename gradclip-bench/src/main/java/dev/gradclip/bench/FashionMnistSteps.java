package dev.gradclip.bench;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.djl.ClippedTrainer;
import dev.gradclip.lab.fashion.FashionMnist;
import dev.gradclip.lab.fashion.Mlp;

/**
 * Training steps of a 784-256-10 ReLU MLP on Fashion-MNIST (batch 64, SGD lr 0.1, softmax
 * cross-entropy) on DJL's PyTorch engine, for {@link TrainingOverhead}: gradclip-lab's reader and
 * MLP, trained through gradclip-djl's {@link ClippedTrainer}. Cycles through the first
 * {@value #IMAGES} training images of Debian's {@code dataset-fashion-mnist}.
 */
final class FashionMnistSteps implements TrainingOverhead.Steps {

    private static final int IMAGES = 10_000;
    private static final int BATCH = 64;

    private final FashionMnist.Split train;
    private final Model model;
    private final Trainer trainer;
    private final ClippedTrainer loop;
    private NDManager stepManager;

    /**
     * Loads the images and builds the model, its trainer and the loop.
     *
     * @param clipper the clipper of every step
     */
    FashionMnistSteps(Clipper clipper) {
        train = FashionMnist.load(FashionMnist.DEFAULT_DIR).train();
        model = Model.newInstance("fashion-mnist-mlp");
        model.setBlock(Mlp.block(256));
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build()));
        trainer.initialize(new Shape(BATCH, FashionMnist.PIXELS));
        loop = ClippedTrainer.of(trainer, clipper);
    }

    @Override
    public double forwardBackward(long i) {
        release();
        stepManager = trainer.getManager().newSubManager();
        int first = (int) (i * BATCH % (IMAGES - BATCH));
        float[] x = new float[BATCH * FashionMnist.PIXELS];
        float[] y = new float[BATCH];
        for (int b = 0; b < BATCH; b++) {
            train.fill(first + b, x, b);
            y[b] = train.label(first + b);
        }
        return loop.forwardBackward(new NDList(stepManager.create(x, new Shape(BATCH, FashionMnist.PIXELS))),
                new NDList(stepManager.create(y, new Shape(BATCH))));
    }

    @Override
    public ClipReport clipGradients() {
        return loop.clipGradients();
    }

    @Override
    public void update(double loss, ClipReport report) {
        loop.update(loss, report);
        release();
    }

    private void release() {
        if (stepManager != null) {
            stepManager.close();
            stepManager = null;
        }
    }

    @Override
    public void close() {
        release();
        trainer.close();
        model.close();
    }
}
