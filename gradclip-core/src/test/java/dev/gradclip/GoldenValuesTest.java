package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks every fixed clipper against {@code golden/golden.txt}, whose expected outputs
 * {@code golden/generate_golden.py} computes from the published formulas with exact arithmetic
 * (fractions and 50-digit roots) and a single round-to-nearest per float32 result. Outputs must
 * match bit for bit; norms within 1e-12 relative (the inputs are small enough that both kernels
 * accumulate in double).
 */
@Tag("kernels")
class GoldenValuesTest {

    static final double NORM_REL = 1e-12;

    /** One case of the golden file. */
    static final class Golden {
        String name;
        String method;
        double p = 2;
        double threshold = Double.NaN;
        double epsilon;
        double lambda = Double.NaN;
        final List<String> exclude = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        final List<String> groups = new ArrayList<>();
        final List<long[]> shapes = new ArrayList<>();
        final List<float[]> grads = new ArrayList<>();
        final List<float[]> params = new ArrayList<>();
        final List<float[]> expected = new ArrayList<>();
        BigDecimal normBefore;
        BigDecimal[] tensorNorms;
        long clippedCount;

        @Override
        public String toString() {
            return name;
        }

        Clipper clipper() {
            return switch (method) {
                case "global-norm" -> Clippers.globalNorm(threshold).withNormType(p).withEpsilon(epsilon);
                case "norm" -> Clippers.norm(threshold).withNormType(p).withEpsilon(epsilon);
                case "group-norm" -> Clippers.groupNorm(threshold).withNormType(p).withEpsilon(epsilon);
                case "renormalize-norm" -> Clippers.renormalize(NormScope.TENSOR);
                case "renormalize-group-norm" -> Clippers.renormalize(NormScope.GROUP);
                case "value" -> Clippers.value(threshold);
                case "agc" -> Clippers.agc(lambda).excluding(exclude.toArray(new String[0]));
                default -> throw new IllegalArgumentException("unknown method in golden file: " + method);
            };
        }

        GradientSet set(float[][] g) {
            GradientSet.Builder b = GradientSet.builder();
            for (int t = 0; t < g.length; t++) {
                b.add(names.get(t), groups.get(t), g[t], params.get(t), shapes.get(t));
            }
            return b.build();
        }
    }

    static List<Golden> load() throws IOException {
        List<Golden> cases = new ArrayList<>();
        try (InputStream in = GoldenValuesTest.class.getResourceAsStream("/golden/golden.txt")) {
            assertThat(in).as("golden/golden.txt on the test class path").isNotNull();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            Golden c = null;
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                String rest = line.substring(f[0].length()).trim();
                switch (f[0]) {
                    case "case" -> {
                        c = new Golden();
                        c.name = rest;
                    }
                    case "method" -> c.method = rest;
                    case "p" -> c.p = Double.parseDouble(rest);
                    case "threshold" -> c.threshold = Double.parseDouble(rest);
                    case "epsilon" -> c.epsilon = Double.parseDouble(rest);
                    case "lambda" -> c.lambda = Double.parseDouble(rest);
                    case "exclude" -> c.exclude.add(rest);
                    case "tensor" -> {
                        c.names.add(f[1]);
                        c.groups.add(f[2]);
                        c.shapes.add(f[3].equals("scalar") ? new long[0]
                                : Arrays.stream(f[3].split("x")).mapToLong(Long::parseLong).toArray());
                        c.params.add(null);
                    }
                    case "grad" -> c.grads.add(floats(f));
                    case "param" -> c.params.set(c.params.size() - 1, floats(f));
                    case "expect" -> c.expected.add(floats(f));
                    case "norm_before" -> c.normBefore = new BigDecimal(rest);
                    case "tensor_norms" -> c.tensorNorms = Arrays.stream(f).skip(1).map(BigDecimal::new)
                            .toArray(BigDecimal[]::new);
                    case "clipped_count" -> c.clippedCount = Long.parseLong(rest);
                    case "end" -> cases.add(c);
                    default -> throw new IllegalStateException("golden.txt line " + lineNo + ": unknown key " + f[0]);
                }
            }
        }
        return cases;
    }

    private static float[] floats(String[] f) {
        float[] out = new float[f.length - 1];
        for (int i = 1; i < f.length; i++) {
            // each value is a float32 written exactly as a double, so parsing to float is exact
            double d = Double.parseDouble(f[i]);
            out[i - 1] = (float) d;
            if (out[i - 1] != d && !Double.isNaN(d)) {
                throw new IllegalStateException("not a float32 value: " + f[i]);
            }
        }
        return out;
    }

    static Stream<Golden> cases() throws IOException {
        return load().stream();
    }

    @Test
    void goldenFileCoversEveryMethod() throws IOException {
        List<String> methods = load().stream().map(c -> c.method).distinct().toList();
        assertThat(methods).contains("global-norm", "norm", "group-norm", "renormalize-norm",
                "renormalize-group-norm", "value", "agc");
        assertThat(load().stream().filter(c -> c.method.equals("global-norm")).map(c -> c.p).distinct())
                .contains(1.0, 2.0, 3.0, Double.POSITIVE_INFINITY);
        assertThat(load().stream().filter(c -> c.epsilon > 0)).isNotEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void clipperReproducesTheGoldenValues(Golden c) {
        float[][] g = new float[c.grads.size()][];
        for (int t = 0; t < g.length; t++) {
            g[t] = c.grads.get(t).clone();
        }
        ClipReport report = c.clipper().clip(c.set(g));
        for (int t = 0; t < g.length; t++) {
            float[] want = c.expected.get(t);
            for (int i = 0; i < want.length; i++) {
                if (Float.floatToIntBits(g[t][i]) != Float.floatToIntBits(want[i])) {
                    throw new AssertionError(c.name + ": tensor " + c.names.get(t) + " element " + i + " is "
                            + g[t][i] + ", expected " + want[i] + " (input " + c.grads.get(t)[i] + "); " + report);
                }
            }
        }
        assertThat(Exact.relativeError(report.normBefore(), c.normBefore)).as("%s norm before", c)
                .isLessThanOrEqualTo(NORM_REL);
        double[] norms = report.tensorNorms();
        for (int t = 0; t < norms.length; t++) {
            assertThat(Exact.relativeError(norms[t], c.tensorNorms[t])).as("%s norm of %s", c, c.names.get(t))
                    .isLessThanOrEqualTo(NORM_REL);
        }
        assertThat(report.clippedCount()).as("%s clipped count", c).isEqualTo(c.clippedCount);
        assertThat(report.clipped()).isEqualTo(c.clippedCount > 0);
        assertThat(report.skipped()).isFalse();
    }

    @Test
    void facadeReproducesTheGoldenGlobalNorms() throws IOException {
        for (Golden c : load()) {
            if (!c.method.equals("global-norm") || c.epsilon > 0) {
                continue;
            }
            float[][] g = c.grads.stream().map(float[]::clone).toArray(float[][]::new);
            double n = GradClip.clipByGlobalNorm(g, c.threshold, c.p);
            assertThat(Exact.relativeError(n, c.normBefore)).as(c.name).isLessThanOrEqualTo(NORM_REL);
            for (int t = 0; t < g.length; t++) {
                assertThat(g[t]).as("%s %s", c, c.names.get(t)).isEqualTo(c.expected.get(t));
            }
        }
    }
}
