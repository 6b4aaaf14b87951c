package dev.gradclip.cli.run;

import dev.gradclip.ClipReport;
import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.cli.NonFiniteStepException;
import dev.gradclip.cli.task.HeldOutMetric;
import dev.gradclip.cli.task.StepMetrics;
import dev.gradclip.cli.task.TaskRun;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Trains one {@link RunPlan} and writes its {@code metrics.jsonl} and {@code summary.json}.
 *
 * <p>Each step's row holds {@code step}, {@code loss}, {@code grad_norm} (pre-clip),
 * {@code clipped_norm}, {@code coef}, {@code threshold}, {@code clipped}, {@code skipped}, the task's
 * extras (e.g. {@code x}), {@code lr} (the learning rate the optimizer's schedule gives the step),
 * {@code layer_norms}, and on the {@value #EVALUATIONS} evenly spaced steps
 * that are evaluated (the last one included) {@code eval}, the task's held-out metric; non-finite
 * numbers are written as {@code null}. The run stops early only when its loss is non-finite. Under
 * {@code +throw-nonfinite} a non-finite gradient ends the run: the metrics so far and a summary with
 * an {@code error} are written, then {@link NonFiniteStepException} is thrown. The summary's
 * {@code outcome} is decided by {@link Outcome#decide}.
 */
public final class RunLoop {

    /** The file name of a run's summary. */
    public static final String SUMMARY = "summary.json";
    /** How many evenly spaced steps of a run are evaluated on held-out data (the last step is one). */
    public static final int EVALUATIONS = 10;

    private final ProgressDisplay.Factory progress;

    /**
     * @param progress how live progress is shown
     */
    public RunLoop(ProgressDisplay.Factory progress) {
        this.progress = progress;
    }

    /**
     * Trains the plan and writes its files into {@code folder}.
     *
     * @param plan   the run
     * @param folder its output folder
     * @return the outcome
     * @throws NonFiniteStepException when a gradient is non-finite under {@code +throw-nonfinite}
     */
    public RunResult train(RunPlan plan, OutputFolder folder) {
        return train(plan, folder, RunControl.none());
    }

    /**
     * Trains the plan with checkpoints, a resume point or fault injection, and writes its files into
     * {@code folder}. A resumed run continues after the checkpoint's step and ends with the same
     * metrics, parameters and summary (wall time aside) as a run never interrupted.
     *
     * @param plan    the run
     * @param folder  its output folder
     * @param control checkpoints, resume point and faults
     * @return the outcome
     * @throws NonFiniteStepException when a gradient is non-finite under {@code +throw-nonfinite}
     *                                (after a final checkpoint, when checkpointing)
     */
    public RunResult train(RunPlan plan, OutputFolder folder, RunControl control) {
        long start = System.nanoTime();
        int steps = plan.settings().steps();
        int window = Math.max(1, plan.task().defaults().lossWindow());
        int evalEvery = Math.max(1, steps / EVALUATIONS);
        HeldOutMetric last = null;
        dev.gradclip.Schedule lr = plan.optimizer().schedule(
                plan.optimizer().learningRate(plan.task().defaults().learningRate()), steps);
        RunHistory p = null;
        List<String> layers;
        String error = null;
        NonFiniteStepException failure = null;
        HeldOutMetric evaluation;
        try (MetricsWriter metrics = control.openMetrics(folder);
                TaskRun run = plan.task().start(plan.settings(), control.wrap(plan.clip().newClipper()),
                        plan.optimizer())) {
            layers = run.layers();
            p = new RunHistory(steps, layers.size());
            int first = control.resume(run, p);
            try (ProgressDisplay bar = progress.start(plan.name(), steps)) {
                for (int s = first; s <= steps && !p.diverged; s++) {
                    StepMetrics r;
                    control.beforeStep(s);
                    try {
                        r = run.step(s);
                    } catch (NonFiniteGradientException e) {
                        failure = new NonFiniteStepException(plan.name(), s, e);
                        error = failure.getMessage();
                        break;
                    }
                    ClipReport rep = r.report();
                    boolean finite = Double.isFinite(r.loss());
                    HeldOutMetric e = null;
                    if (finite && (s % evalEvery == 0 || s == steps)) {
                        e = run.evaluate();
                        last = e;
                    }
                    double eval = e == null ? Double.NaN : e.value();
                    p.record(r.loss(), rep.normBefore(), r.layerNorms(), rep.clipped(), rep.skipped(), eval);
                    // the schedule advances with applied steps only: this step's rate
                    long applied = (s - 1) - (p.skipped - (rep.skipped() ? 1 : 0));
                    metrics.write(row(s, r, layers, e, lr.valueAt(applied)));
                    bar.update(s, r.loss());
                    if (!finite) {
                        p.diverged = true;
                        p.divergedAt = s;
                    }
                    control.afterStep(s, run, p, metrics);
                }
            }
            // after a step that threw this is still the state of the last completed step: it changed nothing
            control.finish(run, p, metrics);
            if (failure != null) {
                p.diverged = true;
                p.divergedAt = failure.step();
            }
            if (p.diverged) {
                evaluation = run.evaluate().withValue(Double.NaN);
            } else if (last != null && p.done == steps && !Double.isNaN(p.evals[steps - 1])) {
                evaluation = last;
            } else {
                // a resumed run whose last step was done before the checkpoint, or none evaluated
                evaluation = run.evaluate();
            }
            metrics.commit();
        } finally {
            if (p != null) {
                p.closeLog();
            }
        }
        int done = p.done;
        long stepsToSuccess = 0;
        for (int i = 0; i < done && stepsToSuccess == 0; i++) {
            if (evaluation.criterion().learned(p.evals[i])) {
                stepsToSuccess = i + 1;
            }
        }
        Outcome outcome = Outcome.decide(Arrays.copyOf(p.losses, done), window, p.divergedAt,
                failure != null ? "gradient" : "loss", evaluation, stepsToSuccess);
        // a diverged run has no final loss: it never enters a mean, a median or a table
        double finalLoss = outcome.diverged() ? Double.NaN : mean(p.losses, Math.max(0, done - window), done);
        LayerHealth health = new LayerHealth(layers, p.layerNorms, done);
        double wall = (System.nanoTime() - start) / 1e9;
        RunResult result = new RunResult(plan.name(), plan.task().name(), plan.clip().label(), plan.optimizer().text(),
                plan.settings().seed(), steps, done, p.firstLoss, finalLoss, evaluation, outcome, p.divergedAt,
                p.clipped, p.skipped, wall, layers, health.exploding(), health.vanishing(), error,
                Arrays.copyOf(p.gradNorms, done));
        Map<String, Object> summary = result.toSummary();
        control.addTo(summary);
        folder.write(SUMMARY, Json.pretty(summary));
        if (failure != null) {
            throw new NonFiniteStepException(failure, result);
        }
        return result;
    }

    private static Map<String, Object> row(long step, StepMetrics r, List<String> layers, HeldOutMetric eval,
            double learningRate) {
        ClipReport rep = r.report();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("loss", r.loss());
        m.put("grad_norm", rep.normBefore());
        m.put("clipped_norm", rep.normAfter());
        m.put("coef", rep.coefficient());
        m.put("threshold", rep.threshold());
        m.put("clipped", rep.clipped());
        m.put("lr", learningRate);
        m.put("skipped", rep.skipped());
        new TreeMap<>(r.extras()).forEach(m::put);
        Map<String, Object> ln = new LinkedHashMap<>();
        double[] norms = r.layerNorms();
        for (int l = 0; l < layers.size(); l++) {
            ln.put(layers.get(l), norms[l]);
        }
        m.put("layer_norms", ln);
        if (eval != null) {
            m.put("eval", eval.value());
        }
        return m;
    }

    private static double mean(double[] a, int from, int to) {
        if (to <= from) {
            return Double.NaN;
        }
        double s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s / (to - from);
    }
}
