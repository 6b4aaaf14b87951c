package dev.gradclip.cli.task;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dev.gradclip.Clipper;
import dev.gradclip.cli.UsageException;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.lab.DatasetException;
import dev.gradclip.lab.text.CharLm;
import dev.gradclip.lab.text.TextCorpus;
import java.util.Random;

/**
 * A character language model: an LSTM ({@code --hidden}, default 64) reads {@code --length}
 * (default 32) characters one-hot and predicts each next one, trained with cross-entropy on DJL's
 * engine; the text is Debian's fortunes or {@code --text FILE}, its first 90% for training and the
 * last 10% held out.
 *
 * <p>Defaults: batch 16, {@code adam:lr=0.01}, {@code global-norm:1.0}, 200 steps (small enough for
 * two CPU cores). Zhang et al. 2020 (arXiv:1905.11881) train LSTM language models with SGD at
 * lr 30 and clip 0.25; try {@code --optimizer sgd:lr=30 --clip global-norm:0.25} and the same without
 * clipping. Evaluation: bits per character on {@code --eval-samples} (default 64) held-out sequences,
 * judged by {@link #criterion(double)}.
 */
public final class CharLmTask implements Task {

    /** How far below the held-out text's unigram entropy a model must get to have learned, in bits per character. */
    public static final double LEARNED_MARGIN_BITS = 0.6;

    /**
     * The criterion for a held-out text whose unigram entropy is {@code unigramBits}. Learned: bits per
     * character at least {@value #LEARNED_MARGIN_BITS} below that entropy, so the model predicts from
     * context, not only from character frequencies. On the fortunes (unigram entropy 4.75 bits) that
     * is at most 4.15 bits, within 5% of the best unclipped learning rate's median (3.95 bits at SGD lr
     * 3, 200 steps, seeds 1–5; lr 1 and 10 give 4.54 and 4.27; see docs/lab.md). Collapsed: at or above
     * log2 of the vocabulary, no better than guessing uniformly; worse than knowing nothing: a bit per
     * character above that.
     *
     * @param unigramBits the held-out text's unigram entropy in bits
     * @return the criterion
     */
    public static Criterion criterion(double unigramBits) {
        double uniform = Math.log(TextCorpus.VOCABULARY) / Math.log(2);
        return Criterion.atMost(unigramBits - LEARNED_MARGIN_BITS, uniform, "bits per character on held-out text")
                .withWorse(uniform + 1);
    }

    /** The task's name. */
    public static final String NAME = "char-lm";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "an LSTM character language model on the fortunes or --text FILE (DJL, PyTorch engine)";
    }

    @Override
    public TaskDefaults defaults() {
        return new TaskDefaults(200, "global-norm:1.0", "adam:lr=0.01", 0.01, 20);
    }

    private static int length(TaskSettings s) {
        return s.length() == null ? 32 : s.length();
    }

    @Override
    public void check(TaskSettings settings) {
        if (settings.text() == null && !java.nio.file.Files.isDirectory(TextCorpus.FORTUNES)) {
            throw new UsageException("the fortunes corpus is not installed (" + TextCorpus.FORTUNES + " is missing):"
                    + " install it with 'sudo apt-get install fortunes-min' or pass --text FILE");
        }
        if (settings.text() != null && !java.nio.file.Files.isRegularFile(settings.text())) {
            throw new UsageException("--text " + settings.text() + " does not exist or is not a file");
        }
        // reads and checks the text now, so an empty or short file is reported before any output
        corpus(settings);
    }

    private static TextCorpus corpus(TaskSettings settings) {
        int length = length(settings);
        // 10 held-out and 10 training sequences at least
        try {
            return TextCorpus.load(settings.text(), 20 * (length + 1) * 10 / 9);
        } catch (DatasetException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    @Override
    public TaskRun start(TaskSettings settings, Clipper clipper, OptimizerSpec optimizer) {
        int length = length(settings);
        TextCorpus corpus = corpus(settings);
        int hidden = settings.hidden() == null ? 64 : settings.hidden();
        int batch = settings.batch() == null ? 16 : settings.batch();
        int vocabulary = corpus.vocabularySize();
        Engine.getInstance().setRandomSeed((int) settings.seed());
        SequentialBlock net = CharLm.block(hidden, vocabulary);
        Model model = Model.newInstance(NAME);
        try {
            model.setBlock(net);
            Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(DjlOptimizers.of(optimizer, defaults().learningRate(), settings.steps())));
            trainer.initialize(new Shape(batch, length, vocabulary));
            int evalSequences = settings.evalSamples() == null ? 64 : settings.evalSamples();
            return new Run(model, trainer, clipper, corpus, length, batch, evalSequences, settings.seed());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static final class Run extends DjlTaskRun {
        private final TextCorpus corpus;
        private final int length;
        private final int batch;
        private final int evalSequences;
        private final int trainEnd;
        private Random random;

        Run(Model model, Trainer trainer, Clipper clipper, TextCorpus corpus, int length, int batch, int evalSequences,
                long seed) {
            super(model, trainer, clipper);
            this.corpus = corpus;
            this.length = length;
            this.batch = batch;
            this.evalSequences = evalSequences;
            this.trainEnd = corpus.ids().length * 9 / 10;
            this.random = new Random(seed * 0x9E3779B97F4A7C15L + 11);
        }

        private NDList[] arrays(NDManager m, int[] starts) {
            return CharLm.batch(m, corpus, starts, length);
        }

        @Override
        protected byte[] dataState() {
            return saveRandom(random);
        }

        @Override
        protected void restoreDataState(byte[] state) {
            random = restoreRandom(state);
        }

        @Override
        protected NDList[] batch(NDManager manager, long step) {
            int[] starts = new int[batch];
            for (int b = 0; b < batch; b++) {
                starts[b] = random.nextInt(trainEnd - length - 1);
            }
            return arrays(manager, starts);
        }

        @Override
        public HeldOutMetric evaluate() {
            int heldOut = corpus.ids().length - trainEnd;
            int count = Math.max(1, Math.min(evalSequences, (heldOut - 1) / length));
            int stride = (heldOut - length - 1) / count;
            double sum = 0;
            int chunk = 32;
            for (int from = 0; from < count; from += chunk) {
                int n = Math.min(chunk, count - from);
                int[] starts = new int[n];
                for (int i = 0; i < n; i++) {
                    starts[i] = trainEnd + (from + i) * stride;
                }
                try (NDManager m = trainer.getManager().newSubManager()) {
                    NDList[] xy = arrays(m, starts);
                    NDList preds = trainer.evaluate(xy[0]);
                    NDArray loss = trainer.getLoss().evaluate(xy[1], preds);
                    sum += loss.toType(DataType.FLOAT64, false).getDouble() * n;
                }
            }
            double bits = sum / count / Math.log(2);
            double unigram = corpus.unigramBits(trainEnd, corpus.ids().length);
            return new HeldOutMetric("bits_per_char", bits, criterion(unigram));
        }
    }
}
