package dev.gradclip.cli;

import dev.gradclip.cli.task.Task;
import dev.gradclip.cli.task.TaskSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The task options shared by train, compare and suggest (a picocli mixin). Each task reads the ones
 * that apply to it; unset options take the task's defaults.
 */
public final class TaskOptions {

    @Option(names = "--steps", paramLabel = "N", description = "Training steps (default: the task's).")
    Integer steps;

    @Option(names = "--x0", paramLabel = "X", description = "quadratic: the start value (default 1.0).")
    Double x0;

    @Option(names = "--length", paramLabel = "T",
            description = "Sequence tasks: the sequence length T (default 50); char-lm: characters per sequence (default 32).")
    Integer length;

    @Option(names = "--hidden", paramLabel = "H", description = "Hidden units (default: the task's).")
    Integer hidden;

    @Option(names = "--init", paramLabel = "INIT",
            description = "Sequence tasks: weight initialisation: normal:SIGMA (default normal:0.3),"
                    + " sigmoid, basic-tanh or smart-tanh (Pascanu et al. 2013).")
    String init;

    @Option(names = "--batch", paramLabel = "B", description = "Minibatch size (default: the task's).")
    Integer batch;

    @Option(names = "--data", paramLabel = "DIR",
            description = "fashion-mnist: folder with the IDX files (default /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--text", paramLabel = "FILE",
            description = "char-lm: the training text (default: the fortunes under /usr/share/games/fortunes).")
    Path text;

    @Option(names = "--eval-samples", paramLabel = "N",
            description = "How many fresh or held-out samples the evaluation uses (default: the task's).")
    Integer evalSamples;

    /**
     * Checks the values and builds the settings of a run.
     *
     * @param task the task
     * @param seed the seed
     * @return the settings
     * @throws UsageException naming a value that is out of range
     */
    public TaskSettings settings(Task task, long seed) {
        positive("--steps", steps);
        positive("--length", length);
        positive("--hidden", hidden);
        positive("--batch", batch);
        positive("--eval-samples", evalSamples);
        if (x0 != null && !Double.isFinite(x0)) {
            throw new UsageException("--x0 must be finite, got " + x0);
        }
        int n = steps == null ? task.defaults().steps() : steps;
        TaskSettings s = new TaskSettings(seed, n, x0, length, hidden, init, batch, data, text, evalSamples);
        task.check(s);
        return s;
    }

    /**
     * The options given, as command-line arguments for another command (e.g. the {@code train} that
     * {@code suggest} proposes), values quoted for a POSIX shell where needed.
     *
     * @param withSteps whether to include {@code --steps}
     * @return e.g. {@code [--length, 10, --steps, 3000]}
     */
    List<String> arguments(boolean withSteps) {
        List<String> a = new ArrayList<>();
        add(a, "--steps", withSteps ? steps : null);
        add(a, "--x0", x0);
        add(a, "--length", length);
        add(a, "--hidden", hidden);
        add(a, "--init", init);
        add(a, "--batch", batch);
        add(a, "--data", data);
        add(a, "--text", text);
        add(a, "--eval-samples", evalSamples);
        return a;
    }

    private static void add(List<String> a, String name, Object value) {
        if (value != null) {
            a.add(name);
            String text = value instanceof Double x
                    ? java.math.BigDecimal.valueOf(x).stripTrailingZeros().toPlainString() : String.valueOf(value);
            a.add(shellQuote(text));
        }
    }

    /**
     * @param s a word
     * @return it as is when safe in a POSIX shell, else in single quotes
     */
    static String shellQuote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=,+@%-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static void positive(String name, Integer value) {
        if (value != null && value <= 0) {
            throw new UsageException(name + " must be a positive whole number, got " + value);
        }
    }
}
