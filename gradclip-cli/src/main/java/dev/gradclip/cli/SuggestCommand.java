package dev.gradclip.cli;

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
import java.math.BigDecimal;
import java.math.MathContext;
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
 * {@code gradclip suggest}: runs a short probe without clipping, shows the distribution of the
 * gradient norms, and recommends a global-norm threshold with its reason.
 *
 * <p>The rule: the 10th percentile of the probe's finite pre-clip norms, the percentile AutoClip
 * found best (Seetharaman et al. 2020, arXiv:2007.14469). At that threshold most steps are
 * rescaled to a common length, which keeps every step's direction and caps the rare huge ones
 * that make training explode.
 */
@Command(name = "suggest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Suggest a clipping threshold from a short probe.",
            "Runs a short probe without clipping, prints the distribution of the gradient norm (percentiles and",
            "a histogram) and recommends a threshold with its reason.",
            "Writes DIR/suggestion.json (recommended_threshold, percentiles) and the probe's metrics in DIR/probe."})
public final class SuggestCommand implements Callable<Integer> {

    /** The file the suggestion is written to. */
    static final String FILE = "suggestion.json";
    /** The percentile recommended, as in AutoClip. */
    static final double RECOMMENDED_PERCENTILE = 10;

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK",
            description = "The workload: ${COMPLETION-CANDIDATES}.", completionCandidates = TrainCommand.TaskNames.class)
    String task;

    @Option(names = "--probe-steps", paramLabel = "N", defaultValue = "200",
            description = "Steps of the probe (default ${DEFAULT-VALUE}).")
    int probeSteps;

    @Option(names = "--probe-clip", paramLabel = "SPEC", defaultValue = "none+propagate-nonfinite",
            description = "Clip spec of the probe (default ${DEFAULT-VALUE}: no clipping, so the norms are the raw ones).")
    String probeClip;

    @Option(names = "--optimizer", paramLabel = "SPEC", description = "Optimizer spec (default: the task's).")
    String optimizer;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (probeSteps <= 0) {
            throw new UsageException("--probe-steps must be a positive whole number, got " + probeSteps);
        }
        if (taskOptions.steps != null) {
            throw new UsageException("suggest takes --probe-steps, not --steps");
        }
        Task t = Tasks.byName(task);
        ClipSpec c = Specs.clip(probeClip, t);
        OptimizerSpec o = Specs.optimizer(optimizer, t);
        TaskSettings settings = taskOptions.settings(t, seed).withSteps(probeSteps);
        OutputFolder folder = OutputFolder.prepare(output.folder("suggest"));
        Trainer trainer = new Trainer(output.noProgress ? Progress.none() : Progress.bar(spec.commandLine().getErr()));
        RunResult probe;
        try {
            probe = trainer.train(new RunPlan("probe", t, settings, c, o), folder.sub("probe"));
        } catch (NonFiniteStepException e) {
            probe = e.result();
        }
        NormDistribution d = new NormDistribution(probe.gradNorms());
        if (d.count() == 0) {
            throw new UsageException("the probe produced no finite gradient norm; lower the learning rate");
        }
        double recommended = round3(d.percentile(RECOMMENDED_PERCENTILE));
        if (!(recommended > 0)) {
            recommended = round3(d.max() > 0 ? d.max() : 1.0);
        }
        double median = d.percentile(50);
        double clippedShare = share(probe.gradNorms(), recommended);
        StringBuilder reason = new StringBuilder(String.format(Locale.ROOT,
                "the 10th percentile of %d pre-clip gradient norms, AutoClip's rule (Seetharaman et al. 2020,"
                        + " arXiv:2007.14469): it would have rescaled %.0f%% of the probe's steps to a common length,"
                        + " keeping each step's direction, and caps the largest norm (%s, %s times the median %s)",
                d.count(), 100 * clippedShare, TextTable.num(d.max()), TextTable.num(d.max() / median),
                TextTable.num(median)));
        if (probe.diverged()) {
            reason.append(String.format(Locale.ROOT, "; without clipping the probe diverged at step %d, so clipping"
                    + " is needed here", probe.divergedAtStep()));
        }
        String clipSpec = "global-norm:" + BigDecimal.valueOf(recommended).stripTrailingZeros().toPlainString();

        out.println("gradient norm over " + d.count() + " probe steps of " + t.name() + " (clip " + c.label() + ")");
        TextTable pt = new TextTable("percentile", "norm");
        pt.row("min", TextTable.num(d.min()));
        d.percentiles().forEach((k, v) -> pt.row(k, TextTable.num(v)));
        pt.row("max", TextTable.num(d.max()));
        pt.print(out);
        out.println();
        out.println("histogram (log-spaced bins):");
        List<NormDistribution.Bin> bins = d.histogram(12);
        int most = bins.stream().mapToInt(NormDistribution.Bin::count).max().orElse(1);
        for (NormDistribution.Bin b : bins) {
            int len = (int) Math.round(40.0 * b.count() / Math.max(1, most));
            out.printf(Locale.ROOT, "  %10s - %-10s %5d %s%n", TextTable.num(b.lower()), TextTable.num(b.upper()),
                    b.count(), "#".repeat(len));
        }
        out.println();
        out.println("recommended threshold: " + TextTable.num(recommended) + " (" + clipSpec + ")");
        out.println("reason: " + reason);
        out.println("try: ./gradclip train --task " + t.name() + " --clip " + clipSpec
                + "   or, adaptive: --clip autoclip:10");

        Map<String, Object> s = new LinkedHashMap<>();
        s.put("task", t.name());
        s.put("probe_steps", probeSteps);
        s.put("steps_completed", probe.stepsCompleted());
        s.put("probe_clip", c.label());
        s.put("optimizer", o.text());
        s.put("seed", seed);
        s.put("diverged", probe.diverged());
        s.put("diverged_at_step", probe.divergedAtStep() == 0 ? null : probe.divergedAtStep());
        s.put("recommended_threshold", recommended);
        s.put("recommended_clip", clipSpec);
        s.put("reason", reason.toString());
        s.put("percentiles", d.percentiles());
        s.put("min", d.min());
        s.put("max", d.max());
        List<Map<String, Object>> hist = new ArrayList<>();
        for (NormDistribution.Bin b : bins) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lower", b.lower());
            m.put("upper", b.upper());
            m.put("count", b.count());
            hist.add(m);
        }
        s.put("histogram", hist);
        folder.write(FILE, Json.pretty(s));
        out.println("wrote " + folder.path().resolve(FILE));
        out.flush();
        return ExitCode.OK;
    }

    private static double round3(double v) {
        return Double.isFinite(v) && v > 0 ? new BigDecimal(v).round(new MathContext(3)).doubleValue() : v;
    }

    private static double share(double[] norms, double threshold) {
        int n = 0;
        int above = 0;
        for (double x : norms) {
            if (Double.isFinite(x)) {
                n++;
                above += x > threshold ? 1 : 0;
            }
        }
        return n == 0 ? 0 : (double) above / n;
    }
}
