package dev.gradclip.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code gradclip demo}: placeholder until the RNN task lands.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "The main job.")
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return ExitCode.OK;
    }
}
