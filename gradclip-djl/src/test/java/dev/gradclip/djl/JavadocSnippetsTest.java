package dev.gradclip.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingConfig;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The code examples of the class Javadoc of {@link ClippedTrainer}, {@link GradientClipListener} and
 * {@link DjlGradients} and of the README's "On DJL" section, compiled here as real code and run on a small DJL model (a
 * linear layer on targets far from its predictions, so that the first gradients are clipped).
 *
 * <p>Each example sits between a {@code // example: NAME} line and a {@code // end of example} line,
 * with the variables it uses as the parameters of its method.
 * {@link #theDocumentedExamplesAreTheCodeCompiledHere()} reads this file, the two classes' sources
 * and the README, and fails when an example there is not the same text as here: edit both together.
 */
class JavadocSnippetsTest {

    private static final Path MODULE = Path.of(System.getProperty("basedir", "")).toAbsolutePath();

    static ClipReport gradientClipListenerExample(Model model, Shape inputShape, int epochs, Dataset trainSet)
            throws IOException, TranslateException {
        // example: GradientClipListener
        GradientClipListener clip = GradientClipListener.builder()
                .setClipper(Clippers.globalNorm(1.0))
                .build();
        TrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss()).addTrainingListeners(clip);
        try (Trainer trainer = model.newTrainer(config)) {
            trainer.initialize(inputShape);
            EasyTrain.fit(trainer, epochs, trainSet, null);
        }
        ClipReport last = clip.getLastReport();
        // end of example
        return last;
    }

    static ClippedTrainer clippedTrainerExample(Trainer trainer, Dataset dataset)
            throws IOException, TranslateException {
        // example: ClippedTrainer
        ClippedTrainer loop = ClippedTrainer.builder()
                .setTrainer(trainer)
                .setClipper(Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP))
                .build();
        for (Batch batch : trainer.iterateDataset(dataset)) {
            StepResult r = loop.trainBatch(batch); // r.loss(), r.report(), r.skipped()
            batch.close();
        }
        // end of example
        return loop;
    }

    static void djlGradientsExample(Trainer trainer) {
        // example: DjlGradients
        // after backward, before trainer.step():
        try (DjlGradients grads = DjlGradients.of(trainer)) {
            ClipReport report = Clippers.globalNorm(1.0).clip(grads);
        }
        trainer.step();
        // end of example
    }

    static StepResult readmeExample(DefaultTrainingConfig config, Trainer trainer, Batch batch, Dataset trainSet,
            int epochs, Clipper clipper, NDList data, NDList labels) throws IOException, TranslateException {
        // example: README
        // EasyTrain (Keras: Adam(global_clipnorm=1.0)): clips every batch after backward, before the update
        config.addTrainingListeners(GradientClipListener.globalNorm(1.0));

        // any clipper, and the latest report: clip.getLastReport()
        GradientClipListener clip = GradientClipListener.builder()
                .setClipper(Clippers.autoClip(10)).build();

        // gradclip's loop, which can truly skip a step (EasyTrain always steps); Clippers.none()
        // trains unclipped, measuring and reporting every step
        ClippedTrainer.of(trainer, Clippers.globalNorm(1.0)).fit(epochs, trainSet, null);
        StepResult r = ClippedTrainer.of(trainer, Clippers.zClip().withNonFinitePolicy(NonFinitePolicy.SKIP))
                .trainBatch(batch);                     // r.loss(), r.report(), r.skipped()

        // a loop of your own (PyTorch: loss.backward(); clip_grad_norm_(params, 1.0); opt.step())
        try (GradientCollector collector = trainer.newGradientCollector()) {
            collector.backward(trainer.getLoss().evaluate(labels, trainer.forward(data)));
        }
        try (DjlGradients g = DjlGradients.of(trainer)) { clipper.clip(g); }
        trainer.step();
        // end of example
        assertThat(clip.getClipper().method()).isEqualTo("autoclip");
        return r;
    }

    /** Four features, targets 100 and above: a linear layer's first gradients have norms far above 1. */
    private static ArrayDataset data(NDManager m, int rows, int batchSize) {
        Random r = new Random(5);
        float[] x = new float[rows * 4];
        float[] y = new float[rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < rows; i++) {
            y[i] = 100f + i;
        }
        return new ArrayDataset.Builder().setData(m.create(x, new Shape(rows, 4)))
                .optLabels(m.create(y, new Shape(rows, 1))).setSampling(batchSize, false).build();
    }

    private static Trainer sgdTrainer(Model model, int batchSize) {
        model.setBlock(Linear.builder().setUnits(1).build());
        Trainer trainer = model.newTrainer(new DefaultTrainingConfig(new GcSafeL2Loss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.001f)).build()));
        trainer.initialize(new Shape(batchSize, 4));
        return trainer;
    }

    @Test
    void theGradientClipListenerExampleClipsUnderEasyTrain() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("listener-example")) {
            model.setBlock(Linear.builder().setUnits(1).build());
            ClipReport last = gradientClipListenerExample(model, new Shape(8, 4), 2, data(m, 16, 8));
            assertThat(last.method()).isEqualTo("global-norm");
            assertThat(last.normBefore()).isGreaterThan(1.0);
            assertThat(last.clipped()).isTrue();
            assertThat(last.normAfter()).isCloseTo(1.0, within(1e-6));
        }
    }

    @Test
    void theClippedTrainerExampleClipsEveryBatch() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("loop-example");
                Trainer trainer = sgdTrainer(model, 4)) {
            ClippedTrainer loop = clippedTrainerExample(trainer, data(m, 16, 4));
            assertThat(loop.getSteps()).isEqualTo(4);
            assertThat(loop.getClippedSteps()).isEqualTo(4);
            assertThat(loop.getSkippedSteps()).isZero();
            assertThat(loop.getLastReport().normAfter()).isCloseTo(1.0, within(1e-6));
        }
    }

    @Test
    void theReadmeExampleTrainsABatch() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("readme-example");
                Trainer trainer = sgdTrainer(model, 4)) {
            Dataset trainSet = data(m, 8, 4);
            Batch batch = trainer.iterateDataset(trainSet).iterator().next();
            DefaultTrainingConfig config = new DefaultTrainingConfig(new GcSafeL2Loss());
            NDList data = batch.getData();
            NDList labels = batch.getLabels();
            try {
                float[] before = weights(trainer);
                float[][] last = new float[1][];
                Clipper globalNorm = Clippers.globalNorm(1.0);
                Clipper clipper = new Clipper() {   // global norm 1, noting the weights before the step
                    @Override
                    public ClipReport clip(dev.gradclip.Gradients gradients) {
                        last[0] = weights(trainer);
                        return globalNorm.clip(gradients);
                    }

                    @Override
                    public String method() {
                        return globalNorm.method();
                    }

                    @Override
                    public NonFinitePolicy nonFinitePolicy() {
                        return globalNorm.nonFinitePolicy();
                    }

                    @Override
                    public Clipper withNonFinitePolicy(NonFinitePolicy policy) {
                        throw new UnsupportedOperationException();
                    }
                };
                StepResult r = readmeExample(config, trainer, batch, trainSet, 1, clipper, data, labels);
                assertThat(config.getTrainingListeners()).hasAtLeastOneElementOfType(GradientClipListener.class);
                assertThat(r.report().method()).isEqualTo("zclip");
                assertThat(r.skipped()).isFalse();
                assertThat(r.loss()).isFinite().isPositive();
                assertThat(last[0]).isNotEqualTo(before);
                // the hand-written step: SGD at 0.001 on a gradient clipped to norm 1 moves the weights by 0.001
                assertThat(TrainingHooksTest.distance(last[0], weights(trainer))).isCloseTo(0.001, within(1e-5));
            } finally {
                batch.close();
            }
        }
    }

    @Test
    void theDjlGradientsExampleClipsBeforeTheStep() throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Model model = Model.newInstance("gradients-example");
                Trainer trainer = sgdTrainer(model, 4)) {
            Batch batch = trainer.iterateDataset(data(m, 4, 4)).iterator().next();
            try (GradientCollector collector = trainer.newGradientCollector()) {
                collector.backward(trainer.getLoss().evaluate(batch.getLabels(), trainer.forward(batch.getData())));
            } finally {
                batch.close();
            }
            float[] before = weights(trainer);
            djlGradientsExample(trainer);
            assertThat(TrainingHooksTest.distance(before, weights(trainer))).isCloseTo(0.001, within(1e-5));
        }
    }

    /** Every parameter of the trainer's model, concatenated. */
    private static float[] weights(Trainer trainer) {
        return TrainingHooksTest.parameters(trainer.getModel());
    }

    @Test
    void theDocumentedExamplesAreTheCodeCompiledHere() throws IOException {
        Map<String, String> compiled =
                examples(read(MODULE.resolve("src/test/java/dev/gradclip/djl/JavadocSnippetsTest.java")));
        assertThat(compiled).containsOnlyKeys("GradientClipListener", "ClippedTrainer", "DjlGradients", "README");
        for (String name : new String[] {"GradientClipListener", "ClippedTrainer", "DjlGradients"}) {
            String source = read(MODULE.resolve("src/main/java/dev/gradclip/djl/" + name + ".java"));
            assertThat(javadocExample(source)).as("the example in %s's class Javadoc", name)
                    .isEqualTo(compiled.get(name));
        }
        assertThat(readmeBlock(read(MODULE.resolveSibling("README.md")))).as("the README's DJL example")
                .isEqualTo(compiled.get("README"));
    }

    private static String read(Path file) throws IOException {
        assertThat(file).as("run from the gradclip-djl module directory").isRegularFile();
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /** The examples of this file by name, each without its common indentation. */
    static Map<String, String> examples(String source) {
        Map<String, String> out = new LinkedHashMap<>();
        String name = null;
        List<String> lines = new ArrayList<>();
        for (String line : source.split("\n", -1)) {
            String t = line.strip();
            if (t.startsWith("// example: ")) {
                name = t.substring("// example: ".length());
                lines.clear();
            } else if (t.equals("// end of example") && name != null) {
                out.put(name, String.join("\n", dedent(lines)));
                name = null;
            } else if (name != null) {
                lines.add(line);
            }
        }
        return out;
    }

    /** The first {@code <pre>{@code ...}</pre>} block of a source file, without the Javadoc margin. */
    static String javadocExample(String source) {
        List<String> lines = new ArrayList<>();
        boolean in = false;
        for (String line : source.split("\n", -1)) {
            String t = line.strip();
            if (!in && t.equals("* <pre>{@code")) {
                in = true;
            } else if (in && t.equals("* }</pre>")) {
                return String.join("\n", dedent(lines));
            } else if (in) {
                lines.add(t.equals("*") ? "" : t.substring(t.startsWith("* ") ? 2 : 1));
            }
        }
        throw new AssertionError("no <pre>{@code ...}</pre> example found");
    }

    /** The README's java block that follows the comment naming this test. */
    static String readmeBlock(String readme) {
        List<String> lines = new ArrayList<>();
        int state = 0;
        for (String line : readme.split("\n", -1)) {
            if (state == 0 && line.startsWith("<!--") && line.contains("JavadocSnippetsTest")) {
                state = 1;
            } else if (state == 1) {
                assertThat(line).as("the line after the README's comment").isEqualTo("```java");
                state = 2;
            } else if (state == 2 && line.equals("```")) {
                return String.join("\n", dedent(lines));
            } else if (state == 2) {
                lines.add(line);
            }
        }
        throw new AssertionError("no java block after a comment naming JavadocSnippetsTest in README.md");
    }

    private static List<String> dedent(List<String> lines) {
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            out.add(l.isBlank() ? "" : l.substring(indent).stripTrailing());
        }
        return out;
    }
}
