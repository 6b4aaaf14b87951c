package dev.gradclip.cli;

import dev.gradclip.cli.ThresholdRace.Candidate;
import dev.gradclip.cli.ThresholdRace.Entry;
import dev.gradclip.cli.run.Evidence;
import dev.gradclip.cli.run.Json;
import dev.gradclip.cli.run.OutputFolder;
import dev.gradclip.cli.run.RunPlan;
import dev.gradclip.cli.run.RunResult;
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
 * {@code gradclip suggest}: recommends a global-norm threshold that trains, by racing short runs of
 * candidate thresholds, and shows the evidence.
 *
 * <ol>
 *   <li><b>Probe.</b> A short run without clipping ({@code --probe-steps}) measures the gradient norm:
 *       its percentiles and a histogram are printed. A probe that diverges is fine: it shows that
 *       clipping is needed.</li>
 *   <li><b>Candidates.</b> The decades 0.01, 0.1, 1 and 10 and the probe's 10th, 50th and 90th
 *       percentiles, rounded to two significant digits (AutoClip clips at a percentile of the
 *       gradient norms seen so far, 10 by default: Seetharaman et al. 2020, arXiv:2007.14469); a
 *       percentile within a factor 1.5 of another candidate is merged into it. {@code --candidates}
 *       replaces them.</li>
 *   <li><b>Race.</b> Each candidate trains {@code global-norm:C} for {@code --race-steps} (default a
 *       quarter of {@code --steps}) on each of {@code --seeds}; the candidates are ranked by
 *       {@link ThresholdRace#ORDER} (more learned, fewer diverged, better median held-out metric, then
 *       the larger threshold). By successive halving the better half trains again for twice the
 *       steps, until {@code --steps} is reached or one candidate is left
 *       ({@code --no-halving}: one round).</li>
 * </ol>
 *
 * <p>A percentile alone does not pick a threshold that trains: on Fashion-MNIST at {@code sgd:lr=1}
 * the probe's 10th percentile clipped nearly every step and trained worse than the task's default;
 * the race measures what each candidate does instead. The recommendation is the winner of the last
 * round, printed with its reason and the {@code train} command to run next; everything is written to
 * {@code DIR/suggestion.json}, the probe to {@code DIR/probe} and each race run to
 * {@code DIR/race/round-R/<clip>/seed-S}.
 */
@Command(name = "suggest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Suggest a global-norm clipping threshold that trains, by racing short runs.",
            "1. Probe: trains --probe-steps without clipping and prints the gradient norm's percentiles and a histogram",
            "   (a probe that diverges is fine: clipping is needed).",
            "2. Candidates: the decades 0.01, 0.1, 1, 10 and the probe's p10, p50 and p90 (AutoClip's percentiles,",
            "   Seetharaman et al. 2020, arXiv:2007.14469), 2 significant digits; or --candidates.",
            "3. Race: each candidate trains global-norm:C for --race-steps on each of --seeds; ranked by more learned,",
            "   fewer diverged, better median held-out metric, then the larger threshold. Successive halving: the",
            "   better half trains again for twice the steps, up to --steps (--no-halving: one round).",
            "Prints the race's table, the recommendation with its reason and the train command to run next.",
            "Writes DIR/suggestion.json (recommended_threshold, reason, candidates with their evidence, percentiles,",
            "next_command), the probe in DIR/probe and each race run in DIR/race/round-R/<clip>/seed-S."})
public final class SuggestCommand implements Callable<Integer> {

    /** The file the suggestion is written to. */
    static final String FILE = "suggestion.json";

    @Spec
    CommandSpec spec;

    @Option(names = "--task", required = true, paramLabel = "TASK",
            description = "The workload: ${COMPLETION-CANDIDATES}.", completionCandidates = TrainCommand.TaskNames.class)
    String task;

    @Option(names = "--optimizer", paramLabel = "SPEC", description = "Optimizer spec (default: the task's).")
    String optimizer;

    @Option(names = "--probe-steps", paramLabel = "N", defaultValue = "200",
            description = "Steps of the probe (default ${DEFAULT-VALUE}).")
    int probeSteps;

    @Option(names = "--probe-clip", paramLabel = "SPEC", defaultValue = "none+propagate-nonfinite",
            description = "Clip spec of the probe (default ${DEFAULT-VALUE}: no clipping, so the norms are the raw ones).")
    String probeClip;

    @Option(names = "--candidates", paramLabel = "C,C,...",
            description = "Thresholds to race, e.g. 0.1,1,10 (default: the decades 0.01 to 10 and the probe's p10, p50, p90).")
    String candidates;

    @Option(names = "--race-steps", paramLabel = "N",
            description = "Steps of the race's first round (default: a quarter of --steps).")
    Integer raceSteps;

    @Option(names = "--seeds", paramLabel = "SEEDS", defaultValue = "1",
            description = "Seeds of each race run: a range 1-2, a list 1,7 or one seed (default ${DEFAULT-VALUE});"
                    + " the probe uses the first.")
    String seeds;

    @Option(names = "--halving", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Successive halving: the better half of the candidates trains again for twice the steps,"
                    + " up to --steps (default). --no-halving: one round.")
    boolean halving;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        if (probeSteps <= 0) {
            throw new UsageException("--probe-steps must be a positive whole number, got " + probeSteps);
        }
        if (raceSteps != null && raceSteps <= 0) {
            throw new UsageException("--race-steps must be a positive whole number, got " + raceSteps);
        }
        Task t = Tasks.byName(task);
        List<Long> seedList = CompareCommand.parseSeeds(seeds);
        List<Candidate> given = candidates == null ? null : ThresholdRace.parse(candidates);
        ClipSpec c = Specs.clip(probeClip, t);
        OptimizerSpec o = Specs.optimizer(optimizer, t);
        TaskSettings full = taskOptions.settings(t, seedList.get(0));
        int fullSteps = full.steps();
        int firstSteps = raceSteps != null ? raceSteps : Math.max(1, fullSteps / 4);
        if (firstSteps > fullSteps) {
            throw new UsageException("--race-steps (" + firstSteps + ") must be at most --steps (" + fullSteps + ")");
        }
        OutputFolder folder = output.prepare("suggest");
        RunLoop runLoop = new RunLoop(output.progress(spec.commandLine().getErr()));

        // 1. the probe
        RunResult probe;
        try {
            probe = runLoop.train(new RunPlan("probe", t, full.withSteps(probeSteps), c, o), folder.sub("probe"));
        } catch (NonFiniteStepException e) {
            probe = e.result();
        }
        NormDistribution d = new NormDistribution(probe.gradNorms());
        printProbe(out, t, c, probe, d);

        // 2. the candidates
        List<Candidate> all = given != null ? given : ThresholdRace.fromProbe(d::percentile);

        // 3. the race
        List<List<Entry>> rounds = new ArrayList<>();
        List<Candidate> alive = all;
        int steps = firstSteps;
        OutputFolder raceFolder = folder.sub("race");
        while (true) {
            OutputFolder roundFolder = raceFolder.sub("round-" + (rounds.size() + 1));
            List<Entry> round = new ArrayList<>();
            for (Candidate cand : alive) {
                ClipSpec cs = Specs.clip(cand.clip(), t);
                List<RunResult> runs = new ArrayList<>();
                for (long seed : seedList) {
                    RunPlan plan = new RunPlan("race " + cs.label() + " seed " + seed + " (" + steps + " steps)", t,
                            full.withSeed(seed).withSteps(steps), cs, o);
                    try {
                        runs.add(runLoop.train(plan, roundFolder.sub(cs.folderName()).sub("seed-" + seed)));
                    } catch (NonFiniteStepException e) {
                        runs.add(e.result()); // a candidate that diverges is evidence, not a failure of suggest
                    }
                }
                round.add(new Entry(cand, Evidence.of(cs.label(), runs), steps));
            }
            round.sort(ThresholdRace.ORDER);
            rounds.add(round);
            if (!halving || round.size() <= 1 || steps >= fullSteps) {
                break;
            }
            int keep = (round.size() + 1) / 2;
            alive = new ArrayList<>();
            for (int i = 0; i < keep; i++) {
                alive.add(round.get(i).candidate());
            }
            steps = (int) Math.min(fullSteps, 2L * steps);
        }
        List<Entry> last = rounds.get(rounds.size() - 1);
        Entry best = last.get(0);
        double recommended = best.candidate().threshold();
        String clipSpec = best.candidate().clip();
        String reason = reason(t, probe, d, all.size(), rounds, seedList);
        String next = nextCommand(t, clipSpec);
        double wall = (System.nanoTime() - start) / 1e9;

        printRace(out, rounds, seedList, all.size());
        out.println();
        out.println("recommended threshold: " + ThresholdRace.plain(recommended) + " (" + clipSpec + ")");
        out.println("reason: " + reason);
        out.println("next: " + next);

        Map<String, Object> s = new LinkedHashMap<>();
        s.put("task", t.name());
        s.put("optimizer", o.text());
        s.put("steps", fullSteps);
        s.put("recommended_threshold", recommended);
        s.put("recommended_clip", clipSpec);
        s.put("reason", reason);
        s.put("next_command", next);
        s.put("candidates", candidatesJson(all, rounds));
        Map<String, Object> race = new LinkedHashMap<>();
        race.put("seeds", seedList);
        race.put("halving", halving);
        List<Map<String, Object>> rj = new ArrayList<>();
        for (int r = 0; r < rounds.size(); r++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", r + 1);
            m.put("steps", rounds.get(r).get(0).steps());
            m.put("ranking", rounds.get(r).stream().map(e -> e.candidate().threshold()).toList());
            rj.add(m);
        }
        race.put("rounds", rj);
        s.put("race", race);
        Map<String, Object> pj = new LinkedHashMap<>();
        pj.put("steps", probeSteps);
        pj.put("steps_completed", probe.stepsCompleted());
        pj.put("clip", c.label());
        pj.put("seed", seedList.get(0));
        pj.put("outcome", probe.outcome().kind().id());
        pj.put("outcome_reason", probe.outcome().reason());
        pj.put("diverged", probe.diverged());
        pj.put("diverged_at_step", probe.divergedAtStep() == 0 ? null : probe.divergedAtStep());
        pj.put("finite_norms", d.count());
        s.put("probe", pj);
        s.put("percentiles", d.percentiles());
        s.put("min", d.min());
        s.put("max", d.max());
        List<Map<String, Object>> hist = new ArrayList<>();
        for (NormDistribution.Bin b : d.histogram(12)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lower", b.lower());
            m.put("upper", b.upper());
            m.put("count", b.count());
            hist.add(m);
        }
        s.put("histogram", hist);
        s.put("wall_seconds", Math.round(wall * 10) / 10.0);
        folder.write(FILE, Json.pretty(s));
        out.printf(Locale.ROOT, "wrote %s (%.1f s)%n", folder.path().resolve(FILE), wall);
        out.flush();
        return ExitCode.OK;
    }

    private static void printProbe(PrintWriter out, Task t, ClipSpec c, RunResult probe, NormDistribution d) {
        out.println("probe: gradient norm over " + d.count() + " finite steps of " + t.name() + " (clip " + c.label()
                + "), " + probe.outcome().kind().id() + ": " + probe.outcome().reason());
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
    }

    private static void printRace(PrintWriter out, List<List<Entry>> rounds, List<Long> seeds, int candidates) {
        StringBuilder plan = new StringBuilder();
        for (List<Entry> r : rounds) {
            plan.append(plan.length() == 0 ? "" : ", ").append(r.size()).append(" x ").append(r.get(0).steps());
        }
        out.println("race of " + candidates + " candidate thresholds (global-norm:C) on seeds " + seeds
                + ", candidates x steps per round: " + plan);
        TextTable tt = new TextTable("round", "rank", "threshold", "from", "steps", "learned", "diverged", "stalled",
                "eval median [min, max]", "clipped");
        for (int r = 0; r < rounds.size(); r++) {
            List<Entry> round = rounds.get(r);
            for (int i = 0; i < round.size(); i++) {
                Entry e = round.get(i);
                Evidence ev = e.evidence();
                tt.row(String.valueOf(r + 1), String.valueOf(i + 1), ThresholdRace.plain(e.candidate().threshold()),
                        String.join("; ", e.candidate().sources()), String.valueOf(e.steps()),
                        ev.learned() + "/" + ev.runs(), ev.diverged() + "/" + ev.runs(), ev.stalled() + "/" + ev.runs(),
                        ev.metric() + " " + TextTable.num(ev.evalMedian()) + " [" + TextTable.num(ev.evalMin()) + ", "
                                + TextTable.num(ev.evalMax()) + "]",
                        String.format(Locale.ROOT, "%.0f%%", 100 * e.clippedFraction()));
            }
        }
        tt.print(out);
    }

    private static String reason(Task t, RunResult probe, NormDistribution d, int candidates,
            List<List<Entry>> rounds, List<Long> seeds) {
        List<Entry> last = rounds.get(rounds.size() - 1);
        Entry best = last.get(0);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s ranked first of %d candidate%s", best.candidate().clip(), candidates,
                candidates == 1 ? "" : "s"));
        if (rounds.size() > 1) {
            sb.append(String.format(Locale.ROOT, " after %d rounds of successive halving", rounds.size()));
        }
        sb.append(String.format(Locale.ROOT, ": at %d steps on %s %s it %s", best.steps(),
                seeds.size() == 1 ? "seed" : "seeds", joinSeeds(seeds), ThresholdRace.summary(best.evidence())));
        if (last.size() > 1) {
            Entry second = last.get(1);
            sb.append(String.format(Locale.ROOT, ", ahead of %s (%s%s)", second.candidate().clip(),
                    ThresholdRace.summary(second.evidence()),
                    ThresholdRace.tied(best, second) ? "; a tie, and the larger threshold clips less" : ""));
        }
        sb.append(String.format(Locale.ROOT, "; it clipped %.0f%% of its steps",
                100 * best.clippedFraction()));
        if (best.evidence().learned() == 0) {
            sb.append("; no candidate learned the task in the race, so try more steps (--steps) or another learning"
                    + " rate");
        }
        if (probe.diverged()) {
            sb.append("; without clipping the probe diverged, so clipping is needed here");
        } else if (d.count() > 0) {
            sb.append(String.format(Locale.ROOT, "; the unclipped probe's median gradient norm was %s",
                    TextTable.num(d.percentile(50))));
        }
        return sb.toString();
    }

    private static String joinSeeds(List<Long> seeds) {
        return String.join(",", seeds.stream().map(String::valueOf).toList());
    }

    private String nextCommand(Task t, String clipSpec) {
        List<String> a = new ArrayList<>(List.of("./gradclip", "train", "--task", t.name()));
        a.addAll(taskOptions.arguments(true));
        if (optimizer != null) {
            a.add("--optimizer");
            a.add(TaskOptions.shellQuote(optimizer));
        }
        a.add("--clip");
        a.add(clipSpec);
        return String.join(" ", a);
    }

    private static List<Map<String, Object>> candidatesJson(List<Candidate> all, List<List<Entry>> rounds) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Candidate cand : all) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("threshold", cand.threshold());
            m.put("clip", cand.clip());
            m.put("from", cand.sources());
            List<Map<String, Object>> rs = new ArrayList<>();
            for (int r = 0; r < rounds.size(); r++) {
                List<Entry> round = rounds.get(r);
                for (int i = 0; i < round.size(); i++) {
                    Entry e = round.get(i);
                    if (e.candidate() == cand) {
                        Map<String, Object> em = new LinkedHashMap<>();
                        em.put("round", r + 1);
                        em.put("steps", e.steps());
                        em.put("rank", i + 1);
                        em.putAll(e.evidence().toMap());
                        em.put("clipped_fraction", e.clippedFraction());
                        rs.add(em);
                    }
                }
            }
            m.put("rounds_reached", rs.size());
            m.put("race", rs);
            out.add(m);
        }
        // the overall rank: later rounds first, then the rank within the round
        List<Map<String, Object>> ordered = new ArrayList<>(out);
        ordered.sort((x, y) -> {
            List<?> rx = (List<?>) x.get("race");
            List<?> ry = (List<?>) y.get("race");
            if (rx.size() != ry.size()) {
                return Integer.compare(ry.size(), rx.size());
            }
            if (rx.isEmpty()) {
                return 0;
            }
            return Integer.compare((Integer) ((Map<?, ?>) rx.get(rx.size() - 1)).get("rank"),
                    (Integer) ((Map<?, ?>) ry.get(ry.size() - 1)).get("rank"));
        });
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).put("final_rank", i + 1);
        }
        return out;
    }
}
