package dev.gradclip.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./gradclip} launcher, run as people run it ({@code bash gradclip ...} from the repository
 * root) on the classes under test ({@code GRADCLIP_CLASSPATH}, so no build): bad input is one line on
 * standard error, and neither the JVM's incubator warning nor libtorch's deprecation warning gets
 * through, while gradclip's own lines do.
 */
class LauncherTest {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
    }

    private Run launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("gradclip").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile())
                .redirectOutput(tmp.resolve("out.txt").toFile()).redirectError(tmp.resolve("err.txt").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("GRADCLIP_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().remove("GRADCLIP_RAW_STDERR");
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the launcher did not finish: " + command);
        }
        return new Run(p.exitValue(), Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    private static void assertNoNoise(String err) {
        assertThat(err).doesNotContain("incubator").doesNotContain("AutoNonVariableTypeMode")
                .doesNotContain("LegacyTypeDispatch").doesNotContain("SLF4J");
    }

    @Test
    void helpPrintsNothingOnStandardError() throws Exception {
        Run r = launch("--help");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Usage: gradclip");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void badInputIsExactlyOneLineOnStandardError() throws Exception {
        Run r = launch("train", "--task", "quadratic", "--clip", "global-norm=1.0", "--out", tmp.resolve("x").toString());
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("gradclip: ").contains("did you mean 'global-norm:1.0'?");
        assertThat(r.out()).isEmpty();
        Run seed = launch("train", "--task", "quadratic", "--seed", "x");
        assertThat(seed.err().lines()).hasSize(1);
        assertThat(seed.err()).contains("--seed must be a whole number, got 'x'");
    }

    @Test
    void aTinyRnnRunPrintsNoJvmOrLibtorchNoise() throws Exception {
        Path out = tmp.resolve("adding");
        Run r = launch("train", "--task", "adding", "--steps", "3", "--length", "10", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertNoNoise(r.err());
        // stderr is a file here: plain progress lines, no bar redrawn with \r
        assertThat(r.err()).doesNotContain("\r").contains("100% (step 3/3)");
        assertThat(r.out()).contains("wrote");
        assertThat(out.resolve("summary.json")).exists();
    }
}
