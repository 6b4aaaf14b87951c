package dev.gradclip.cli.task;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dev.gradclip.Clipper;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.lab.DatasetException;
import dev.gradclip.lab.fashion.FashionMnist;
import dev.gradclip.lab.fashion.Mlp;
import java.nio.file.Path;
import java.util.Random;

/**
 * Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747): 28×28 grey images of clothes in 10 classes,
 * from Debian's {@code dataset-fashion-mnist} or {@code --data DIR}, classified by a plain MLP
 * ({@code 784 → H → H → 10}, ReLU, no normalisation) trained with cross-entropy on DJL's engine.
 *
 * <p>Defaults: {@code H = 128}, batch 64, {@code sgd:lr=0.1}, {@code global-norm:5.0}, 600 steps.
 * A plain network without normalisation and a large learning rate shows exploding updates, which
 * clipping (and AGC, made for networks without normalisation) keeps in check. Evaluation: accuracy
 * on the first {@code --eval-samples} (default all 10,000) test images, judged by {@link #CRITERION}.
 */
public final class FashionMnistTask implements Task {

    /** The task's name. */
    public static final String NAME = "fashion-mnist";
    /** Where Debian's package installs the data. */
    public static final Path DEFAULT_DIR = FashionMnist.DEFAULT_DIR;

    /** The test accuracy at or above which a run has learned the task. */
    public static final double LEARNED_ACCURACY = 0.78;
    private static final int PIXELS = FashionMnist.PIXELS;
    private static final int CLASSES = FashionMnist.CLASSES;

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Learned: test accuracy at least {@value #LEARNED_ACCURACY}, within five points of the best
     * unclipped learning rate's result at the default 600 steps (see docs/lab.md). Collapsed: 15% or
     * less, within five points of guessing one of ten classes.
     */
    public static final Criterion CRITERION = Criterion.atLeast(LEARNED_ACCURACY, 0.15, "test accuracy");

    @Override
    public String description() {
        return "Fashion-MNIST images classified by a plain MLP (DJL, PyTorch engine)";
    }

    @Override
    public TaskDefaults defaults() {
        return new TaskDefaults(600, "global-norm:5.0", "sgd:lr=0.1", 0.1, 20);
    }

    @Override
    public void check(TaskSettings settings) {
        // loads and checks the files now (cached for the run), so a corrupt file is reported before any output
        load(dir(settings));
    }

    private static Path dir(TaskSettings settings) {
        return settings.data() != null ? settings.data() : DEFAULT_DIR;
    }

    /**
     * Loads (once per folder) and checks the four IDX files.
     *
     * @param dir the folder
     * @return the data
     * @throws UsageException if a file is missing, corrupt or inconsistent
     */
    static FashionMnist load(Path dir) {
        try {
            return FashionMnist.load(dir);
        } catch (DatasetException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    @Override
    public TaskRun start(TaskSettings settings, Clipper clipper, OptimizerSpec optimizer) {
        FashionMnist data = load(dir(settings));
        int hidden = settings.hidden() == null ? 128 : settings.hidden();
        int batch = settings.batch() == null ? 64 : settings.batch();
        int evalSamples = Math.min(data.test().count(), settings.evalSamples() == null ? data.test().count()
                : settings.evalSamples());
        Engine.getInstance().setRandomSeed((int) settings.seed());
        SequentialBlock net = Mlp.block(hidden, hidden);
        Model model = Model.newInstance(NAME);
        try {
            model.setBlock(net);
            Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(DjlOptimizers.of(optimizer, defaults().learningRate(), settings.steps())));
            trainer.initialize(new Shape(batch, PIXELS));
            return new Run(model, trainer, clipper, data, batch, evalSamples, settings.seed());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public ModelRecipe modelRecipe(TaskSettings settings) {
        int hidden = settings.hidden() == null ? 128 : settings.hidden();
        return new ModelRecipe(() -> Mlp.block(hidden, hidden), Loss::softmaxCrossEntropyLoss, new long[] {PIXELS});
    }

    private static final class Run extends DjlTaskRun {
        private final FashionMnist data;
        private final int batch;
        private final int evalSamples;
        private Random random;
        private int[] order;
        private int position;

        Run(Model model, Trainer trainer, Clipper clipper, FashionMnist data, int batch, int evalSamples, long seed) {
            super(model, trainer, clipper);
            this.data = data;
            this.batch = batch;
            this.evalSamples = evalSamples;
            this.random = new Random(seed * 0x9E3779B97F4A7C15L + 7);
            this.order = new int[data.train().count()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            this.position = order.length;
        }

        @Override
        protected NDList[] batch(NDManager manager, long step) {
            float[] x = new float[batch * PIXELS];
            float[] y = new float[batch];
            for (int b = 0; b < batch; b++) {
                if (position == order.length) {
                    shuffle();
                }
                int i = order[position++];
                data.train().fill(i, x, b);
                y[b] = data.train().label(i);
            }
            return new NDList[] {new NDList(manager.create(x, new Shape(batch, PIXELS))),
                new NDList(manager.create(y, new Shape(batch)))};
        }

        @Override
        protected byte[] dataState() {
            byte[] r = saveRandom(random);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + r.length + 4 * order.length);
            b.putInt(position).putInt(r.length).put(r);
            b.asIntBuffer().put(order);
            return b.array();
        }

        @Override
        protected void restoreDataState(byte[] state) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(state);
            int newPosition = state.length >= 8 ? b.getInt() : -1;
            int n = state.length >= 8 ? b.getInt() : -1;
            if (newPosition < 0 || newPosition > order.length || n < 0 || n > b.remaining()
                    || b.remaining() - n != 4 * order.length) {
                throw new IllegalArgumentException("fashion-mnist data state does not match a training set of "
                        + order.length + " images");
            }
            byte[] r = new byte[n];
            b.get(r);
            int[] newOrder = new int[order.length];
            b.asIntBuffer().get(newOrder);
            random = restoreRandom(r);
            order = newOrder;
            position = newPosition;
        }

        private void shuffle() {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            position = 0;
        }

        @Override
        public HeldOutMetric evaluate() {
            int correct = 0;
            int chunk = 1000;
            for (int from = 0; from < evalSamples; from += chunk) {
                int n = Math.min(chunk, evalSamples - from);
                float[] x = new float[n * PIXELS];
                for (int r = 0; r < n; r++) {
                    data.test().fill(from + r, x, r);
                }
                try (NDManager m = trainer.getManager().newSubManager()) {
                    NDArray logits = trainer.evaluate(new NDList(m.create(x, new Shape(n, PIXELS)))).singletonOrThrow();
                    float[] out = logits.toFloatArray();
                    for (int r = 0; r < n; r++) {
                        int best = 0;
                        for (int c = 1; c < CLASSES; c++) {
                            if (out[r * CLASSES + c] > out[r * CLASSES + best]) {
                                best = c;
                            }
                        }
                        boolean finite = Float.isFinite(out[r * CLASSES + best]);
                        correct += finite && best == data.test().label(from + r) ? 1 : 0;
                    }
                }
            }
            double accuracy = (double) correct / evalSamples;
            return new HeldOutMetric("test_accuracy", accuracy, CRITERION);
        }
    }
}
