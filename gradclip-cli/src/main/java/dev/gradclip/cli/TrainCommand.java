package dev.gradclip.cli;

import dev.gradclip.cli.report.HtmlReport;
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
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gradclip train}: trains one task with one clip spec and writes {@code metrics.jsonl},
 * {@code summary.json} and {@code report.html}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train one task with one clip spec and optimizer.",
            "Writes DIR/metrics.jsonl (one JSON object per step), DIR/summary.json and DIR/report.html."})
public final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK",
            description = "The workload: ${COMPLETION-CANDIDATES}.", completionCandidates = TaskNames.class)
    String task;

    @Option(names = "--clip", paramLabel = "SPEC", description = "Clip spec (default: the task's; see below).")
    String clip;

    @Option(names = "--optimizer", paramLabel = "SPEC", description = "Optimizer spec (default: the task's).")
    String optimizer;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Random seed; the same seed gives the same numbers (default ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Task t = Tasks.byName(task);
        ClipSpec c = Specs.clip(clip, t);
        OptimizerSpec o = Specs.optimizer(optimizer, t);
        TaskSettings settings = taskOptions.settings(t, seed);
        OutputFolder folder = OutputFolder.prepare(output.folder("train"));
        Progress.Factory progress = output.noProgress ? Progress.none() : Progress.bar(spec.commandLine().getErr());
        RunResult r;
        try {
            r = new Trainer(progress).train(new RunPlan(c.label(), t, settings, c, o), folder);
        } finally {
            if (java.nio.file.Files.isRegularFile(folder.path().resolve(Trainer.SUMMARY))) {
                HtmlReport.rebuild(folder.path(), "gradclip train: " + t.name() + " with " + c.label());
            }
        }
        Tables.runs(out, List.of(r));
        out.println("wrote " + folder.path().resolve("metrics.jsonl") + ", summary.json and report.html");
        out.flush();
        return ExitCode.OK;
    }

    /** The task names, for help and completion. */
    static final class TaskNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Tasks.names().iterator();
        }
    }
}
