package dev.gradclip.cli;

import dev.gradclip.cli.report.HtmlReport;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.Progress;
import dev.gradclip.cli.run.RunPlan;
import dev.gradclip.cli.run.RunResult;
import dev.gradclip.cli.run.Trainer;
import dev.gradclip.cli.spec.ClipSpec;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.cli.task.Task;
import dev.gradclip.cli.task.TaskSettings;
import dev.gradclip.cli.task.Tasks;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gradclip compare}: runs a grid of clip specs × seeds on one task and summarises each clip
 * spec: success rate, final loss mean ± standard deviation, divergences.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare clip specs over several seeds on one task.",
            "Prints a table per clip spec (success rate, final loss mean +- std, divergences) and writes",
            "DIR/summary.json (with a rows array), DIR/report.html (overlaid curves) and one folder per run."})
public final class CompareCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK",
            description = "The workload: ${COMPLETION-CANDIDATES}.", completionCandidates = TrainCommand.TaskNames.class)
    String task;

    @Option(names = "--clip", required = true, paramLabel = "SPEC",
            description = "A clip spec; repeat the option for each one to compare.")
    List<String> clips;

    @Option(names = "--optimizer", paramLabel = "SPEC", description = "Optimizer spec (default: the task's).")
    String optimizer;

    @Option(names = "--seeds", paramLabel = "SEEDS", defaultValue = "1-5",
            description = "Seeds: a range 1-5, a list 1,2,7 or one seed (default ${DEFAULT-VALUE}).")
    String seeds;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Task t = Tasks.byName(task);
        List<ClipSpec> specs = new ArrayList<>();
        LinkedHashSet<String> folders = new LinkedHashSet<>();
        for (String c : clips) {
            ClipSpec s = Specs.clip(c, t);
            if (!folders.add(s.folderName())) {
                throw new UsageException("clip spec '" + c + "' is given twice");
            }
            specs.add(s);
        }
        OptimizerSpec o = Specs.optimizer(optimizer, t);
        List<Long> seedList = parseSeeds(seeds);
        TaskSettings base = taskOptions.settings(t, seedList.get(0));
        OutputFolder folder = OutputFolder.prepare(output.folder("compare"));
        Trainer trainer = new Trainer(output.noProgress ? Progress.none() : Progress.bar(spec.commandLine().getErr()));

        List<RunResult> results = new ArrayList<>();
        List<Map<String, Object>> runs = new ArrayList<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        NonFiniteStepException firstFailure = null;
        for (ClipSpec c : specs) {
            List<RunResult> perClip = new ArrayList<>();
            for (long seed : seedList) {
                String sub = c.folderName() + "/seed-" + seed;
                RunPlan plan = new RunPlan(c.label() + " seed " + seed, t, base.withSeed(seed), c, o);
                RunResult r;
                try {
                    r = trainer.train(plan, folder.sub(c.folderName()).sub("seed-" + seed));
                } catch (NonFiniteStepException e) {
                    // one run's non-finite gradient ends that run, not the grid; the exit code reports it
                    r = e.result();
                    if (firstFailure == null) {
                        firstFailure = e;
                    }
                }
                perClip.add(r);
                results.add(r);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("folder", sub);
                m.putAll(r.toSummary());
                runs.add(m);
            }
            rows.add(row(c, perClip));
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("title", "gradclip compare: " + t.name());
        summary.put("task", t.name());
        summary.put("optimizer", o.text());
        summary.put("seeds", seedList);
        summary.put("steps", base.steps());
        summary.put("rows", rows);
        summary.put("runs", runs);
        folder.write(Trainer.SUMMARY, Json.pretty(summary));
        HtmlReport.rebuild(folder.path(), "gradclip compare: " + t.name());

        TextTable table = new TextTable("clip", "success", "final loss (mean +- std)", "divergences", "eval (mean)",
                "clipped steps (mean)");
        for (Map<String, Object> row : rows) {
            table.row(row.get("clip"), row.get("successes") + "/" + row.get("runs"),
                    TextTable.num((Double) row.get("final_loss_mean")) + " +- "
                            + TextTable.num((Double) row.get("final_loss_std")),
                    row.get("divergences"), row.get("eval_metric") + " " + TextTable.num((Double) row.get("eval_mean")),
                    TextTable.num((Double) row.get("clipped_steps_mean")));
        }
        table.print(out);
        out.println("wrote " + folder.path().resolve(Trainer.SUMMARY) + " and report.html");
        out.flush();
        if (firstFailure != null) {
            throw firstFailure;
        }
        return ExitCode.OK;
    }

    /**
     * The statistics of one clip spec over its seeds.
     *
     * @param c    the spec
     * @param runs its runs
     * @return the row of {@code summary.json}
     */
    static Map<String, Object> row(ClipSpec c, List<RunResult> runs) {
        int successes = 0;
        int divergences = 0;
        List<Double> finals = new ArrayList<>();
        double evalSum = 0;
        int evalCount = 0;
        double clippedSum = 0;
        double skippedSum = 0;
        for (RunResult r : runs) {
            successes += r.success() ? 1 : 0;
            divergences += r.diverged() ? 1 : 0;
            if (!r.diverged() && Double.isFinite(r.finalLoss())) {
                finals.add(r.finalLoss());
            }
            if (Double.isFinite(r.evaluation().value())) {
                evalSum += r.evaluation().value();
                evalCount++;
            }
            clippedSum += r.clippedSteps();
            skippedSum += r.skippedSteps();
        }
        double mean = Double.NaN;
        double std = Double.NaN;
        if (!finals.isEmpty()) {
            mean = finals.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = 0;
            for (double f : finals) {
                ss += (f - mean) * (f - mean);
            }
            std = finals.size() > 1 ? Math.sqrt(ss / (finals.size() - 1)) : 0.0;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clip", c.label());
        m.put("runs", runs.size());
        m.put("successes", successes);
        m.put("success_rate", runs.isEmpty() ? Double.NaN : (double) successes / runs.size());
        m.put("final_loss_mean", mean);
        m.put("final_loss_std", std);
        m.put("divergences", divergences);
        m.put("eval_metric", runs.isEmpty() ? null : runs.get(0).evaluation().metric());
        m.put("eval_mean", evalCount == 0 ? Double.NaN : evalSum / evalCount);
        m.put("clipped_steps_mean", runs.isEmpty() ? Double.NaN : clippedSum / runs.size());
        m.put("skipped_steps_mean", runs.isEmpty() ? Double.NaN : skippedSum / runs.size());
        return m;
    }

    /**
     * @param text {@code 1-5}, {@code 1,2,7} or {@code 3}
     * @return the seeds, in order, without repeats
     * @throws UsageException if the text is not such a list
     */
    static List<Long> parseSeeds(String text) {
        LinkedHashSet<Long> out = new LinkedHashSet<>();
        try {
            for (String part : text.split(",", -1)) {
                String p = part.trim();
                int dash = p.indexOf('-', 1);
                if (dash > 0) {
                    long a = Long.parseLong(p.substring(0, dash).trim());
                    long b = Long.parseLong(p.substring(dash + 1).trim());
                    if (b < a || b - a >= 1000) {
                        throw new UsageException("--seeds range '" + p + "' must go upwards and hold at most 1000 seeds");
                    }
                    for (long s = a; s <= b; s++) {
                        out.add(s);
                    }
                } else {
                    out.add(Long.parseLong(p));
                }
            }
        } catch (NumberFormatException e) {
            throw new UsageException("--seeds must be a range like 1-5 or a list like 1,2,7, got '" + text + "'");
        }
        return new ArrayList<>(out);
    }
}
