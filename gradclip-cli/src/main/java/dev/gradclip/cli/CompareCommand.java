package dev.gradclip.cli;

import dev.gradclip.cli.report.HtmlReport;
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
 * spec as {@link Evidence}: outcome counts, the held-out metric's median and range over the runs that
 * did not diverge, the median step to success, and a verdict that follows from the counts.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare clip specs over several seeds on one task.",
            "Prints a line per clip spec (learned, diverged and stalled seeds, the eval's median and range",
            "over the runs that did not diverge, the median step to success) and a verdict, and writes",
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
        OutputFolder folder = output.prepare("compare");
        RunLoop runLoop = new RunLoop(output.progress(spec.commandLine().getErr()));

        SeedRuns grid = new SeedRuns(runLoop);
        List<Evidence> evidence = new ArrayList<>();
        for (ClipSpec c : specs) {
            List<RunResult> perClip = grid.train(folder.sub(c.folderName()), c.folderName(), c.label(), t, base, c, o,
                    seedList);
            evidence.add(Evidence.of(c.label(), perClip));
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("title", "gradclip compare: " + t.name());
        summary.put("task", t.name());
        summary.put("optimizer", o.text());
        summary.put("seeds", seedList);
        summary.put("steps", base.steps());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Evidence e : evidence) {
            rows.add(e.toMap());
        }
        String verdict = Evidence.verdict(evidence);
        summary.put("rows", rows);
        summary.put("verdict", verdict);
        summary.put("runs", grid.summaries());
        folder.write(RunLoop.SUMMARY, Json.pretty(summary));
        HtmlReport.rebuild(folder.path(), "gradclip compare: " + t.name());

        Tables.evidence(out, evidence);
        out.println(verdict);
        out.println("wrote " + folder.path().resolve(RunLoop.SUMMARY) + " and report.html");
        out.flush();
        if (grid.firstFailure() != null) {
            // one run's non-finite gradient ended that run, not the grid; the exit code reports it
            throw grid.firstFailure();
        }
        return ExitCode.OK;
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
