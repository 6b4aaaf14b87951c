package dev.gradclip.cli;

import dev.gradclip.cli.report.HtmlReport;
import dev.gradclip.cli.run.Evidence;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.ProgressDisplay;
import dev.gradclip.cli.run.RunResult;
import dev.gradclip.cli.run.SeedRuns;
import dev.gradclip.cli.run.RunLoop;
import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.QuadraticTask;
import dev.gradclip.cli.task.StepMetrics;
import dev.gradclip.cli.task.Task;
import dev.gradclip.cli.task.TaskRun;
import dev.gradclip.cli.task.TaskSettings;
import dev.gradclip.cli.task.Tasks;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gradclip demo}: the main job, showing over several seeds that clipping turns failing
 * training into learning.
 *
 * <ol>
 *   <li>The seed's {@code x²} example in a few lines.</li>
 *   <li>The adding problem of Pascanu et al. 2013 (arXiv:1211.5063) at {@code T = 10}: a 50-unit tanh
 *       RNN with weights N(0, 0.3²) and SGD at lr 0.05, whose gradients explode. Trained without
 *       clipping, with a fixed threshold and with an automatic one, on every seed.</li>
 *   <li>Fashion-MNIST, a real data set: the task's MLP at SGD lr 1, ten times the best unclipped
 *       learning rate, without and with clipping, beside the best unclipped learning rate (0.1).</li>
 * </ol>
 * Each panel prints, per clip spec, how many seeds learned, diverged and stalled (see
 * {@link dev.gradclip.cli.run.Outcome}) and the held-out metric, then a verdict that follows from the
 * counts; {@code report.html} and {@code summary.json} (a {@code panels} array with the same rows,
 * and a {@code runs} array) are written to {@code DIR}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The main job: see clipping turn failing training into learning, over several seeds.",
            "Runs the seed's x^2 example; trains a 50-unit tanh RNN on the adding problem (T = 10, weights",
            "N(0, 0.3^2), SGD lr 0.05) without clipping, with a fixed and with an automatic threshold; trains a",
            "Fashion-MNIST MLP at SGD lr 1 without and with clipping beside the best unclipped learning rate;",
            "prints learned/diverged/stalled counts per method and writes DIR/report.html and DIR/summary.json."})
public final class DemoCommand implements Callable<Integer> {

    /** One training configuration of a panel: a display name, a clip spec and an optimizer spec. */
    record Method(String name, String clip, String optimizer) {
    }

    /**
     * A panel of the demo: one task with its settings, trained with each method on every seed.
     *
     * @param title   what the panel shows, for the terminal and the summary
     * @param task    the task's name
     * @param length  the sequence length, or {@code null}
     * @param steps   the training steps of each run
     * @param methods the methods, the unclipped one first
     */
    record Panel(String title, String task, Integer length, int steps, List<Method> methods) {
    }

    /** The sequence panel: adding at T = 10, where unclipped SGD explodes on most seeds. */
    static final Panel SEQUENCE = new Panel(
            "The adding problem (Pascanu et al. 2013): a 50-unit tanh RNN reads 10 steps of two channels and outputs"
                    + " the mean of the two marked numbers. Weights N(0, 0.3^2), batch 20, SGD lr 0.05",
            "adding", 10, 3000, List.of(
                    new Method("no clipping", "none+propagate-nonfinite", "sgd:lr=0.05"),
                    new Method("fixed threshold", "global-norm:0.1", "sgd:lr=0.05"),
                    new Method("automatic threshold", "zclip", "sgd:lr=0.05")));

    /** The real-data panel: Fashion-MNIST at ten times the best unclipped learning rate. */
    static final Panel REAL_DATA = new Panel(
            "Fashion-MNIST (real images, 10 classes): a 784-128-10 ReLU MLP, batch 64, at SGD lr 1, ten times the"
                    + " best unclipped learning rate",
            "fashion-mnist", null, 600, List.of(
                    new Method("no clipping, lr 1", "none+propagate-nonfinite", "sgd:lr=1"),
                    new Method("fixed threshold, lr 1", "global-norm:0.1", "sgd:lr=1"),
                    new Method("automatic threshold, lr 1", "zclip", "sgd:lr=1"),
                    new Method("no clipping, best lr 0.1", "none+propagate-nonfinite", "sgd:lr=0.1")));

    @Spec
    CommandSpec spec;

    @Mixin
    GridOptions options;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/demo",
            description = "Output folder (default ${DEFAULT-VALUE}).")
    java.nio.file.Path out;

    @Option(names = "--overwrite",
            description = "Replace the run already in --out when --out is given (runs/demo is always replaced).")
    boolean overwrite;

    @Option(names = "--no-progress", description = "Do not show progress (for logs and CI).")
    boolean noProgress;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        List<Long> seedList = options.validate();
        List<Panel> panels = List.of(SEQUENCE, REAL_DATA);
        for (Panel panel : panels) {
            Tasks.byName(panel.task()).check(settings(panel, seedList.get(0)));
            for (Method m : panel.methods()) {
                ClipSpec.parse(m.clip());
                OptimizerSpec.parse(m.optimizer());
            }
        }
        OutputFolder folder = OutputFolder.prepare(out,
                overwrite || !spec.commandLine().getParseResult().hasMatchedOption("--out"));
        long start = System.nanoTime();

        Map<String, Object> seedExample = seedExample(w);
        RunLoop runLoop = new RunLoop(noProgress ? ProgressDisplay.none() : ProgressDisplay.auto(spec.commandLine().getErr()));
        SeedRuns grid = new SeedRuns(runLoop);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Map<String, Object>> panelSummaries = new ArrayList<>();
        List<String> closing = new ArrayList<>();
        int number = 2;
        for (Panel panel : panels) {
            w.println();
            w.printf(Locale.ROOT, "%d. %s, %d steps, seeds %s:%n", number++, panel.title(), steps(panel),
                    options.seeds);
            w.flush();
            Task task = Tasks.byName(panel.task());
            List<Evidence> evidence = new ArrayList<>();
            for (Method m : panel.methods()) {
                ClipSpec clip = ClipSpec.parse(m.clip());
                OptimizerSpec optimizer = OptimizerSpec.parse(m.optimizer());
                List<RunResult> results = grid.train(folder.sub(panel.task()).sub(folderName(m)),
                        panel.task() + "/" + folderName(m), m.name() + " (" + clip.label() + ")", task,
                        settings(panel, seedList.get(0)), clip, optimizer, seedList);
                evidence.add(Evidence.of(m.name() + " (" + clip.label() + ")", results));
            }
            Tables.evidence(w, evidence);
            String verdict = verdict(panel, evidence);
            w.println(verdict);
            closing.add(verdict);
            Map<String, Object> ps = new LinkedHashMap<>();
            ps.put("task", panel.task());
            ps.put("title", panel.title());
            ps.put("steps", steps(panel));
            List<Map<String, Object>> panelRows = new ArrayList<>();
            for (Evidence e : evidence) {
                Map<String, Object> row = e.toMap();
                panelRows.add(row);
                Map<String, Object> labelled = new LinkedHashMap<>(row);
                labelled.put("clip", panel.task() + ": " + e.clip());
                rows.add(labelled);
            }
            ps.put("rows", panelRows);
            ps.put("verdict", verdict);
            panelSummaries.add(ps);
        }
        w.println();
        w.println("In short:");
        for (String c : closing) {
            w.println("  " + c);
        }

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("title", "gradclip demo: clipping turns failing training into learning");
        summary.put("seed_example", seedExample);
        summary.put("seeds", seedList);
        summary.put("panels", panelSummaries);
        summary.put("rows", rows);
        summary.put("verdict", String.join(" ", closing));
        summary.put("runs", grid.summaries());
        summary.put("wall_seconds", Math.round((System.nanoTime() - start) / 1e6) / 1000.0);
        folder.write(RunLoop.SUMMARY, Json.pretty(summary));
        java.nio.file.Path report = HtmlReport.rebuild(folder.path(), "gradclip demo");
        w.println("report: " + report);
        w.println("summary: " + folder.path().resolve(RunLoop.SUMMARY));
        w.flush();
        return ExitCode.OK;
    }

    private int steps(Panel panel) {
        return options.steps(panel.steps());
    }

    private TaskSettings settings(Panel panel, long seed) {
        return new TaskSettings(seed, steps(panel), null, panel.length(), null, null, null, null, null,
                options.evalSamples);
    }

    private static String folderName(Method m) {
        return ClipSpec.parse(m.clip()).folderName() + "_" + m.optimizer().replaceAll("[^A-Za-z0-9.=-]", "_");
    }

    /**
     * Runs the seed example (quadratic, in memory) and prints it in a few lines.
     *
     * @param w the writer
     * @return the numbers, for the summary
     */
    private static Map<String, Object> seedExample(PrintWriter w) {
        w.println("1. The seed example: minimise J(x) = x^2 from x0 = 1.0, gradient descent with lr 0.1, value clipping");
        w.println("   at c = 1.0 (the gradient 2x is clipped to 1 while x > 0.5, then x <- 0.8 x). x every 10 iterations:");
        List<Double> trajectory = quadratic(1.0, "value:1.0", "sgd:lr=0.1", 100, 10);
        StringBuilder sb = new StringBuilder("  ");
        for (int i = 0; i < trajectory.size(); i++) {
            sb.append(String.format(Locale.ROOT, " %d: %.4g", i * 10, trajectory.get(i)));
        }
        w.println(sb);
        List<Double> unclipped = quadratic(1e6, "none+propagate-nonfinite", "sgd:lr=1.5", 20, 1);
        List<Double> clipped = quadratic(1e6, "value:1.0", "sgd:lr=1.5", 20, 1);
        w.printf(Locale.ROOT, "   From x0 = 1e6 with lr 1.5: unclipped, x = %.3g after 20 steps (|x| doubles every step);%n",
                unclipped.get(unclipped.size() - 1));
        w.printf(Locale.ROOT, "   clipped at 1.0, every step moves x by lr*c = 1.5: x = %.1f after 20 steps.%n",
                clipped.get(clipped.size() - 1));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("x_every_10_iterations", trajectory);
        m.put("x0_1e6_lr_1_5_unclipped_after_20", unclipped.get(unclipped.size() - 1));
        m.put("x0_1e6_lr_1_5_clipped_after_20", clipped.get(clipped.size() - 1));
        return m;
    }

    private static List<Double> quadratic(double x0, String clip, String opt, int steps, int every) {
        Task q = Tasks.byName(QuadraticTask.NAME);
        TaskSettings s = new TaskSettings(1, steps, x0, null, null, null, null, null, null, null);
        List<Double> xs = new ArrayList<>(List.of(x0));
        try (TaskRun run = q.start(s, ClipSpec.parse(clip).newClipper(), OptimizerSpec.parse(opt))) {
            for (int i = 1; i <= steps; i++) {
                StepMetrics r = run.step(i);
                if (i % every == 0) {
                    xs.add(r.extras().get("x"));
                }
            }
        }
        return xs;
    }

    /**
     * The panel's verdict, from the counts: how the clipped methods fared against the unclipped one
     * (the first method), and for a panel with a reference (the last method, another learning rate
     * unclipped) how close the clipped methods' median came to it.
     */
    private static String verdict(Panel panel, List<Evidence> evidence) {
        Evidence none = evidence.get(0);
        StringBuilder sb = new StringBuilder(panel.task());
        sb.append(String.format(Locale.ROOT, ": without clipping %d/%d seeds diverged and %d/%d learned;", none.diverged(),
                none.runs(), none.learned(), none.runs()));
        int clippedEnd = panel.methods().size();
        Evidence reference = null;
        if (panel.methods().get(clippedEnd - 1).clip().startsWith("none")) {
            clippedEnd--;
            reference = evidence.get(clippedEnd);
        }
        for (int i = 1; i < clippedEnd; i++) {
            Evidence e = evidence.get(i);
            sb.append(i == 1 ? " with " : ", with ").append(ClipSpec.parse(panel.methods().get(i).clip()).label())
                    .append(String.format(Locale.ROOT, " %d/%d learned", e.learned(), e.runs()));
            if (e.diverged() > 0) {
                sb.append(String.format(Locale.ROOT, " (%d diverged)", e.diverged()));
            }
            if (!Double.isNaN(e.evalMedian())) {
                sb.append(String.format(Locale.ROOT, ", median %s %s", e.metric(), TextTable.num(e.evalMedian())));
            }
        }
        sb.append('.');
        if (reference != null && !Double.isNaN(reference.evalMedian())) {
            sb.append(String.format(Locale.ROOT, " Unclipped at the best learning rate: median %s %s.",
                    reference.metric(), TextTable.num(reference.evalMedian())));
        }
        return sb.toString();
    }
}
