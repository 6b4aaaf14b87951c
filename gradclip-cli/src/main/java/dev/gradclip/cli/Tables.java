package dev.gradclip.cli;

import dev.gradclip.cli.run.Evidence;
import dev.gradclip.cli.run.RunResult;
import java.io.PrintWriter;
import java.util.List;

/**
 * The terminal tables the commands print.
 */
final class Tables {

    private Tables() {
    }

    /**
     * Prints one line per run: final loss, eval, diverged, clipped and skipped steps, wall time.
     *
     * @param out  the writer
     * @param runs the runs
     */
    static void runs(PrintWriter out, List<RunResult> runs) {
        TextTable t = new TextTable("run", "outcome", "final loss", "eval", "clipped steps", "skipped steps",
                "wall s");
        for (RunResult r : runs) {
            t.row(r.name(), r.outcome().kind().id()
                    + (r.divergedAtStep() > 0 ? " (step " + r.divergedAtStep() + ")" : ""), TextTable.num(r.finalLoss()),
                    r.evaluation().metric() + " " + TextTable.num(r.evaluation().value()),
                    r.clippedSteps() + "/" + r.stepsCompleted(), r.skippedSteps(),
                    String.format(java.util.Locale.ROOT, "%.1f", r.wallSeconds()));
        }
        t.print(out);
        for (RunResult r : runs) {
            if (!r.explodingLayers().isEmpty()) {
                out.println(r.name() + ": exploding layers " + String.join(", ", r.explodingLayers()));
            }
            if (!r.vanishingLayers().isEmpty()) {
                out.println(r.name() + ": vanishing layers " + String.join(", ", r.vanishingLayers()));
            }
        }
        out.flush();
    }

    /**
     * Prints one line per clip spec of a comparison: outcome counts, the eval's median and range over
     * the runs that did not diverge, the median step to success, clipped steps.
     *
     * @param out      the writer
     * @param evidence one per clip spec
     */
    static void evidence(PrintWriter out, List<Evidence> evidence) {
        TextTable t = new TextTable("clip", "learned", "diverged", "stalled", "eval median [min, max]",
                "steps to success", "clipped steps");
        for (Evidence e : evidence) {
            t.row(e.clip(), e.learned() + "/" + e.runs(), e.diverged() + "/" + e.runs(), e.stalled() + "/" + e.runs(),
                    e.metric() + " " + TextTable.num(e.evalMedian()) + " [" + TextTable.num(e.evalMin()) + ", "
                            + TextTable.num(e.evalMax()) + "]",
                    Double.isNaN(e.stepsToSuccess()) ? "-" : String.format(java.util.Locale.ROOT, "%.0f",
                            e.stepsToSuccess()),
                    String.format(java.util.Locale.ROOT, "%.0f", e.clippedStepsMean()));
        }
        t.print(out);
        out.flush();
    }
}
