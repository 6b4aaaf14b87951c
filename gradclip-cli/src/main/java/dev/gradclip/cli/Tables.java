package dev.gradclip.cli;

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
        TextTable t = new TextTable("run", "final loss", "eval", "diverged", "clipped steps", "skipped steps",
                "wall s");
        for (RunResult r : runs) {
            t.row(r.name(), TextTable.num(r.finalLoss()),
                    r.evaluation().metric() + " " + TextTable.num(r.evaluation().value()),
                    r.diverged() ? "yes (step " + r.divergedAtStep() + ")" : "no",
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
}
