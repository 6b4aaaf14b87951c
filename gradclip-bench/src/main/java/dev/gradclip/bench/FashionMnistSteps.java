package dev.gradclip.bench;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.gradclip.djl.DjlGradients;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Training steps of a 784-256-10 ReLU MLP on Fashion-MNIST (batch 64, SGD lr 0.1, softmax
 * cross-entropy) on DJL's PyTorch engine, for {@link TrainingOverhead}. Reads the first
 * {@value #IMAGES} training images of Debian's {@code dataset-fashion-mnist} and cycles through them.
 */
final class FashionMnistSteps implements TrainingOverhead.Steps {

    /** Where Debian's {@code dataset-fashion-mnist} installs the files. */
    static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
    private static final int IMAGES = 10_000;
    private static final int PIXELS = 28 * 28;
    private static final int BATCH = 64;

    private final float[] images;
    private final float[] labels;
    private final Model model;
    private final Trainer trainer;
    private NDManager stepManager;

    /** @return whether the training files are installed */
    static boolean available() {
        return Files.isReadable(DIR.resolve("train-images-idx3-ubyte.gz"))
                && Files.isReadable(DIR.resolve("train-labels-idx1-ubyte.gz"));
    }

    /** Loads the images and builds the model and trainer. */
    FashionMnistSteps() {
        images = readImages(DIR.resolve("train-images-idx3-ubyte.gz"));
        labels = readLabels(DIR.resolve("train-labels-idx1-ubyte.gz"));
        SequentialBlock net = new SequentialBlock()
                .add(Linear.builder().setUnits(256).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(10).build());
        model = Model.newInstance("fashion-mnist-mlp");
        model.setBlock(net);
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build()));
        trainer.initialize(new Shape(BATCH, PIXELS));
    }

    private static float[] readImages(Path file) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (magic != 2051 || rows * cols != PIXELS || count < IMAGES) {
                throw new IllegalStateException(file + " is not a Fashion-MNIST image file (magic " + magic + ", "
                        + count + " images of " + rows + "x" + cols + ")");
            }
            byte[] raw = new byte[IMAGES * PIXELS];
            in.readFully(raw);
            float[] out = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                out[i] = (raw[i] & 0xff) / 255f;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static float[] readLabels(Path file) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            int count = in.readInt();
            if (magic != 2049 || count < IMAGES) {
                throw new IllegalStateException(file + " is not a Fashion-MNIST label file (magic " + magic + ", "
                        + count + " labels)");
            }
            byte[] raw = new byte[IMAGES];
            in.readFully(raw);
            float[] out = new float[IMAGES];
            for (int i = 0; i < IMAGES; i++) {
                out[i] = raw[i];
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        return new DataInputStream(new BufferedInputStream(new GZIPInputStream(Files.newInputStream(file))));
    }

    @Override
    public void forwardBackward(long i) {
        release();
        stepManager = trainer.getManager().newSubManager();
        int first = (int) (i * BATCH % (IMAGES - BATCH));
        NDArray x = stepManager.create(Arrays.copyOfRange(images, first * PIXELS, (first + BATCH) * PIXELS),
                new Shape(BATCH, PIXELS));
        NDArray y = stepManager.create(Arrays.copyOfRange(labels, first, first + BATCH), new Shape(BATCH));
        try (GradientCollector collector = trainer.newGradientCollector()) {
            NDList preds = trainer.forward(new NDList(x), new NDList(y));
            collector.backward(trainer.getLoss().evaluate(new NDList(y), preds));
        }
    }

    @Override
    public DjlGradients gradients() {
        return DjlGradients.of(trainer);
    }

    @Override
    public void applyUpdate() {
        trainer.step();
        release();
    }

    @Override
    public void skipUpdate() {
        gradients().zeroGradients();
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
