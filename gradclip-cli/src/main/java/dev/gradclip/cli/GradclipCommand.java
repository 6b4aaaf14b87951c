package dev.gradclip.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code gradclip} command: shows help when run without a subcommand.
 */
@Command(name = "gradclip", mixinStandardHelpOptions = true, version = "gradclip 0.1.0",
        description = "Gradient clipping, seen working: train with and without clipping, compare methods, suggest a"
                + " threshold, and report every run as one self-contained HTML file.",
        subcommands = {DemoCommand.class, TrainCommand.class, CompareCommand.class, SuggestCommand.class, LabCommand.class,
            ReportCommand.class, BenchCommand.class, HelpCommand.class},
        footer = {"", "Start with: ./gradclip demo",
            "Help on a command: ./gradclip help COMMAND (or ./gradclip COMMAND --help).",
            "Exit codes: 0 done, 1 unexpected failure, 2 bad input (nothing written), 3 non-finite gradient."})
public final class GradclipCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
