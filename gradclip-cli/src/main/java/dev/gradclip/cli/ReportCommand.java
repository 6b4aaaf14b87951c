package dev.gradclip.cli;

import dev.gradclip.cli.report.HtmlReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gradclip report DIR}: rebuilds {@code DIR/report.html} from the metrics files in DIR.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Rebuild DIR/report.html from the metrics files.",
            "Reads the metrics.jsonl files in DIR or its sub-folders (a run of train, or the runs of demo or compare)."})
public final class ReportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The folder written by train, compare or demo.")
    Path dir;

    @Override
    public Integer call() {
        Path report = HtmlReport.rebuild(dir, "gradclip report: " + dir.toAbsolutePath().normalize().getFileName());
        spec.commandLine().getOut().println("wrote " + report);
        spec.commandLine().getOut().flush();
        return ExitCode.OK;
    }
}
