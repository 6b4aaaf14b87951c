package dev.gradclip.cli;

import dev.gradclip.cli.run.Evidence;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.RunResult;
import dev.gradclip.cli.run.SeedRuns;
import dev.gradclip.cli.run.RunLoop;
import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.Task;
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
 * {@code gradclip lab}: the lab's table. Trains every lab workload (the adding problem at
 * {@code T = 10} and {@code T = 20}, Fashion-MNIST and the character language model at a high
 * learning rate) with every method (no clipping, the fixed global-norm thresholds of the sweep
 * {@link #FIXED}, AGC, and the automatic thresholds {@link #AUTOMATIC} at their default settings)
 * on every seed, and writes {@code DIR/lab.md}: per workload a table of outcome counts and the
 * held-out metric, the best fixed threshold, the best automatic method and whether it lands within
 * 5% of the best fixed threshold (see {@link #within5Percent}).
 */
@Command(name = "lab", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The lab's table: every lab workload x every method x every seed.",
            "Trains the adding problem at T = 10 and 20, Fashion-MNIST at SGD lr 1 and the char LM at SGD lr 20",
            "without clipping, with global-norm thresholds 0.01, 0.1, 1 and 10, AGC, AutoClip, ZClip and AdaGC,",
            "and writes DIR/lab.md (outcome counts, eval median and range, best fixed vs best automatic) and",
            "DIR/summary.json. The full grid takes tens of minutes on 2 cores; --workloads picks some."})
public final class LabCommand implements Callable<Integer> {

    /**
     * One lab workload: a task with the settings under which unclipped training fails.
     *
     * @param id          its name in the table and in {@code --workloads}
     * @param task        the task's name
     * @param length      the sequence length, or {@code null} for the task's
     * @param optimizer   the optimizer spec
     * @param steps       training steps
     * @param description one line for the table's heading
     */
    record Workload(String id, String task, Integer length, String optimizer, int steps, String description) {
    }

    /** The lab workloads. */
    static final List<Workload> WORKLOADS = List.of(
            new Workload("adding-T10", "adding", 10, "sgd:lr=0.05", 3000,
                    "adding problem, T = 10, 50-unit tanh RNN, weights N(0, 0.3^2), batch 20, SGD lr 0.05"),
            new Workload("adding-T20", "adding", 20, "sgd:lr=0.05", 10000,
                    "adding problem, T = 20, 50-unit tanh RNN, weights N(0, 0.3^2), batch 20, SGD lr 0.05"),
            new Workload("fashion-mnist-lr1", "fashion-mnist", null, "sgd:lr=1", 600,
                    "Fashion-MNIST, 784-128-10 ReLU MLP, batch 64, SGD lr 1 (the best unclipped lr is 0.1)"),
            new Workload("char-lm-lr20", "char-lm", null, "sgd:lr=20", 200,
                    "character LM on the fortunes, LSTM, batch 16, 32 characters, SGD lr 20"));

    /** The fixed global-norm thresholds of the sweep. */
    static final List<String> FIXED = List.of("global-norm:0.01", "global-norm:0.1", "global-norm:1", "global-norm:10");
    /** The automatic methods, at their default settings. */
    static final List<String> AUTOMATIC = List.of("autoclip", "zclip", "adagc");

    @Spec
    CommandSpec spec;

    @Mixin
    GridOptions options;

    @Option(names = "--workloads", paramLabel = "IDS", split = ",",
            description = "Workloads to train, comma-separated (default: all of adding-T10, adding-T20,"
                    + " fashion-mnist-lr1, char-lm-lr20).")
    List<String> workloads;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Long> seedList = options.validate();
        List<Workload> chosen = choose();
        List<String> methods = new ArrayList<>();
        methods.add("none");
        methods.addAll(FIXED);
        methods.add("agc:0.01");
        methods.addAll(AUTOMATIC);
        for (Workload w : chosen) {
            Tasks.byName(w.task()).check(settings(w, seedList.get(0)));
        }
        OutputFolder folder = output.prepare("lab");
        long start = System.nanoTime();
        RunLoop runLoop = new RunLoop(output.progress(spec.commandLine().getErr()));
        SeedRuns grid = new SeedRuns(runLoop);
        StringBuilder md = new StringBuilder();
        md.append("| workload | method | learned | diverged | stalled | eval median [min, max] | steps to success |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        StringBuilder notes = new StringBuilder();
        List<Map<String, Object>> summaries = new ArrayList<>();
        for (Workload w : chosen) {
            Task task = Tasks.byName(w.task());
            OptimizerSpec optimizer = OptimizerSpec.parse(w.optimizer());
            List<Evidence> evidence = new ArrayList<>();
            long workloadStart = System.nanoTime();
            for (String m : methods) {
                ClipSpec clip = ClipSpec.parse(m);
                List<RunResult> results = grid.train(folder.sub(w.id()).sub(clip.folderName()),
                        w.id() + "/" + clip.folderName(), w.id() + " " + clip.label(), task, settings(w, 0), clip,
                        optimizer, seedList);
                evidence.add(Evidence.of(clip.label(), results));
            }
            double minutes = (System.nanoTime() - workloadStart) / 60e9;
            out.printf(Locale.ROOT, "%n%s (%s), %d steps, seeds %s, %.1f min:%n", w.id(), w.description(), steps(w),
                    options.seeds, minutes);
            Tables.evidence(out, evidence);
            Map<String, Object> ws = new LinkedHashMap<>();
            ws.put("id", w.id());
            ws.put("description", w.description());
            ws.put("steps", steps(w));
            ws.put("minutes", Math.round(minutes * 10) / 10.0);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Evidence e : evidence) {
                rows.add(e.toMap());
                md.append(String.format(Locale.ROOT, "| %s | `%s` | %d/%d | %d/%d | %d/%d | %s | %s |%n", w.id(), e.clip(),
                        e.learned(), e.runs(), e.diverged(), e.runs(), e.stalled(), e.runs(), evalText(e),
                        Double.isNaN(e.stepsToSuccess()) ? "–" : String.format(Locale.ROOT, "%.0f", e.stepsToSuccess())));
            }
            ws.put("rows", rows);
            String verdict = verdict(evidence);
            ws.put("verdict", verdict);
            out.println(verdict);
            notes.append(String.format(Locale.ROOT, "- **%s** (%d steps, %.1f min): %s%n", w.id(), steps(w), minutes,
                    verdict));
            summaries.add(ws);
        }
        double total = (System.nanoTime() - start) / 60e9;
        String text = "# gradclip lab\n\n" + "Seeds " + options.seeds + ", every run's outcome judged as in docs/lab.md. "
                + String.format(Locale.ROOT, "%.1f minutes in all.%n%n", total) + md + "\n" + notes;
        folder.write("lab.md", text);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("title", "gradclip lab");
        summary.put("seeds", seedList);
        summary.put("workloads", summaries);
        summary.put("runs", grid.summaries());
        summary.put("minutes", Math.round(total * 10) / 10.0);
        folder.write(RunLoop.SUMMARY, Json.pretty(summary));
        out.println();
        out.println("wrote " + folder.path().resolve("lab.md") + " and summary.json");
        out.flush();
        return ExitCode.OK;
    }

    private List<Workload> choose() {
        if (workloads == null || workloads.isEmpty()) {
            return WORKLOADS;
        }
        List<Workload> chosen = new ArrayList<>();
        for (String id : workloads) {
            Workload found = null;
            for (Workload w : WORKLOADS) {
                if (w.id().equals(id.trim())) {
                    found = w;
                }
            }
            if (found == null) {
                List<String> ids = WORKLOADS.stream().map(Workload::id).toList();
                throw new UsageException("unknown workload '" + id + "': choose from " + String.join(", ", ids));
            }
            chosen.add(found);
        }
        return chosen;
    }

    private int steps(Workload w) {
        return options.steps(w.steps());
    }

    private TaskSettings settings(Workload w, long seed) {
        Integer eval = w.task().equals("char-lm") ? null : options.evalSamples;
        return new TaskSettings(seed, steps(w), null, w.length(), null, null, null, null, null, eval);
    }

    private static String evalText(Evidence e) {
        if (Double.isNaN(e.evalMedian())) {
            return "–";
        }
        return e.metric() + " " + TextTable.num(e.evalMedian()) + " [" + TextTable.num(e.evalMin()) + ", "
                + TextTable.num(e.evalMax()) + "]";
    }

    /**
     * The best fixed global-norm threshold, the best automatic method, whether the automatic one
     * lands within 5% of the fixed one, and whether an automatic method diverged where a fixed
     * threshold learned.
     */
    static String verdict(List<Evidence> evidence) {
        Evidence bestFixed = best(evidence, FIXED);
        Evidence bestAuto = best(evidence, AUTOMATIC);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "best fixed threshold `%s` (%s, median %s); best automatic `%s` (%s,"
                + " median %s): ", bestFixed.clip(), bestFixed.counts(), TextTable.num(bestFixed.evalMedian()),
                bestAuto.clip(), bestAuto.counts(), TextTable.num(bestAuto.evalMedian())));
        sb.append(within5Percent(bestAuto, bestFixed) ? "within 5%" : "**not** within 5%");
        if (bestFixed.learned() > 0) {
            List<String> divergent = new ArrayList<>();
            for (Evidence e : evidence) {
                if (AUTOMATIC.contains(base(e.clip())) && e.diverged() > 0) {
                    divergent.add(e.clip() + " diverged " + e.diverged() + "/" + e.runs());
                }
            }
            sb.append(divergent.isEmpty() ? "; no automatic method diverged"
                    : "; where a fixed threshold learns, " + String.join(", ", divergent));
        }
        return sb.append('.').toString();
    }

    /**
     * Whether {@code auto} lands within 5% of {@code fixed}: at least as many seeds learned, less 5%
     * of the seeds, and a median metric within 5% of the fixed one's: relative for accuracy and bits
     * per character, and 5 percentage points for an error rate (itself a fraction).
     *
     * @param auto  the automatic method's evidence
     * @param fixed the best fixed threshold's evidence
     * @return whether it lands within 5%
     */
    static boolean within5Percent(Evidence auto, Evidence fixed) {
        if (auto.learned() < fixed.learned() - 0.05 * fixed.runs()) {
            return false;
        }
        double a = auto.evalMedian();
        double f = fixed.evalMedian();
        if (Double.isNaN(f)) {
            return true;
        }
        if (Double.isNaN(a)) {
            return false;
        }
        if (auto.higherIsBetter()) {
            return a >= 0.95 * f;
        }
        return auto.metric().equals("error_rate") ? a <= f + 0.05 : a <= 1.05 * f;
    }

    private static Evidence best(List<Evidence> evidence, List<String> among) {
        Evidence best = null;
        for (Evidence e : evidence) {
            if (among.contains(base(e.clip())) && (best == null || e.betterThan(best))) {
                best = e;
            }
        }
        return best;
    }

    /** The clip label without its default policy, as written in {@link #FIXED} and {@link #AUTOMATIC}. */
    private static String base(String label) {
        int plus = label.indexOf('+');
        String b = plus < 0 ? label : label.substring(0, plus);
        for (String f : FIXED) {
            if (ClipSpec.parse(f).label().equals(b)) {
                return f;
            }
        }
        for (String a : AUTOMATIC) {
            if (ClipSpec.parse(a).label().equals(b)) {
                return a;
            }
        }
        return b;
    }
}
