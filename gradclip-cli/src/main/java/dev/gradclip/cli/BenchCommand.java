package dev.gradclip.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code gradclip bench}, as this module knows it: the benchmarks live in the gradclip-bench module
 * (main class {@code dev.gradclip.bench.BenchMain}), and the {@code ./gradclip} launcher runs them
 * there, {@code ./gradclip help bench} included. This command gives {@code help bench} an answer when
 * gradclip-cli runs on its own, and says how to run the benchmarks.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure gradclip against the memory bandwidth of this machine (JMH, each row in its own JVM):"
            + " global-norm clipping on both kernels, the under-threshold step, value clipping, AGC, and gradclip on"
            + " DJL NDArrays against the same clip composed from libtorch ops."},
        footer = {"", "Options: --quick (well under a minute), --json, --out FILE, --only TEXT, --training, --steps N.",
            "The benchmarks run from the gradclip-bench module: ./gradclip bench [OPTIONS], and ./gradclip bench --help"
                + " for every option."})
public final class BenchCommand implements Callable<Integer> {

    @Parameters(hidden = true)
    List<String> ignored;

    @Override
    public Integer call() {
        throw new UsageException("the benchmarks run from the gradclip-bench module: run them as './gradclip bench'"
                + " (see './gradclip bench --help')");
    }
}
