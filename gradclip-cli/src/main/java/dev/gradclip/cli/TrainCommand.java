package dev.gradclip.cli;

import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.report.HtmlReport;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.ProgressDisplay;
import dev.gradclip.cli.run.RunControl;
import dev.gradclip.cli.run.RunPlan;
import dev.gradclip.cli.run.RunResult;
import dev.gradclip.cli.run.RunLoop;
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

    @Option(names = "--task", paramLabel = "TASK",
            description = "The workload: ${COMPLETION-CANDIDATES} (required unless --resume).",
            completionCandidates = TaskNames.class)
    String task;

    @Option(names = "--clip", paramLabel = "SPEC", description = "Clip spec (default: the task's; see below).")
    String clip;

    @Option(names = "--optimizer", paramLabel = "SPEC", description = "Optimizer spec (default: the task's).")
    String optimizer;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Random seed; the same seed gives the same numbers (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = {"Train data-parallel on Apache Spark: local[N] (N threads here), local[N,F] (each task "
                + "tried up to F times), spark://HOST:7077, ... Every step's batch is split into --partitions shards "
                + "whose gradients the driver sums in order, clips and applies: the same run as without --spark "
                + "within float summation order (docs/spark.md). fashion-mnist only."})
    String sparkMaster;

    @Option(names = "--partitions", paramLabel = "N",
            description = "With --spark: the shards of each batch (default: Spark's default parallelism, N for local[N]).")
    Integer partitions;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    OutputOptions output;

    @Mixin
    FaultOptions faults;

    @Override
    public Integer call() {
        if (faults.resume != null) {
            return ResumeRun.resume(this, faults.resume);
        }
        List<String> all = spec.commandLine().getParseResult().originalArgs();
        // the parse result holds the whole command line; the run's options follow the subcommand's name
        return run(null, all.subList(all.indexOf(spec.name()) + 1, all.size()));
    }

    /**
     * Trains, from the start or from a checkpoint.
     *
     * @param from    the checkpoint to continue from, or {@code null}
     * @param options the options the run was started with (saved in its checkpoints)
     * @return the exit code
     */
    int run(CheckpointStore.Loaded from, List<String> options) {
        if (task == null) {
            throw new UsageException("Missing required option: '--task=TASK'");
        }
        PrintWriter out = spec.commandLine().getOut();
        Task t = Tasks.byName(task);
        if (partitions != null && sparkMaster == null) {
            throw new UsageException("--partitions needs --spark");
        }
        if (sparkMaster == null) {
            return run(from, options, t, out);
        }
        // dev.gradclip.cli.task.SparkTask is the only class that needs Spark's jars: loaded only here
        try (dev.gradclip.cli.task.SparkTask onSpark = dev.gradclip.cli.task.SparkTask.open(t, sparkMaster, partitions)) {
            return run(from, options, onSpark, out);
        }
    }

    private int run(CheckpointStore.Loaded from, List<String> options, Task t, PrintWriter out) {
        ClipSpec c = Specs.clip(clip, t);
        OptimizerSpec o = Specs.optimizer(optimizer, t);
        TaskSettings settings = taskOptions.settings(t, seed);
        RunControl control = faults.control(seed, options, from);
        // a resumed run continues in its folder; a new one needs a folder free of other runs
        OutputFolder folder = from != null ? OutputFolder.existing(output.folder("train")) : output.prepare("train");
        if (from == null && control.checkpointing()) {
            control.named(folder.newRunId());
        }
        ProgressDisplay.Factory progress = output.progress(spec.commandLine().getErr());
        RunResult r;
        try {
            r = new RunLoop(progress).train(new RunPlan(c.label(), t, settings, c, o), folder, control);
        } finally {
            if (java.nio.file.Files.isRegularFile(folder.path().resolve(RunLoop.SUMMARY))) {
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
