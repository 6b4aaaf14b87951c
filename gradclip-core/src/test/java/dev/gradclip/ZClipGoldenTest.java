package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks {@link ZClipper} step by step against {@code golden/zclip_golden.txt}, which
 * {@code golden/generate_zclip_golden.py} computes from the rule of the reference implementation
 * (bluorion-com/ZClip, {@code zclip/zclip.py}; arXiv:2504.02507), in Python doubles, with no code
 * shared with gradclip.
 *
 * <p>A case whose settings are the reference's defaults is run on {@link Clippers#zClip()} exactly
 * as built, so these cases also pin the defaults, the cap of 1.0 on warm-up steps included.
 */
class ZClipGoldenTest {

    /** The reference's constructor defaults, written out here rather than read from the library. */
    private static final double REFERENCE_ALPHA = 0.97;
    private static final double REFERENCE_Z = 2.5;
    private static final int REFERENCE_WARMUP = 25;
    private static final String REFERENCE_OPTION = "adaptive_scaling";
    private static final double REFERENCE_MAX = 1.0;

    /** One case of the golden file. */
    static final class Golden {
        String name;
        double alpha;
        double z;
        int warmup;
        String option;
        double max = Double.NaN;
        boolean skipUpdateOnSpike;
        final List<double[]> steps = new ArrayList<>();
        double mean;
        double variance;
        int clipped;

        @Override
        public String toString() {
            return name;
        }

        /** Clippers.zClip(), changed only where the case differs from the reference's defaults. */
        ZClipper clipper() {
            ZClipper c = Clippers.zClip();
            if (alpha != REFERENCE_ALPHA) {
                c = c.withAlpha(alpha);
            }
            if (z != REFERENCE_Z) {
                c = c.withZThreshold(z);
            }
            if (warmup != REFERENCE_WARMUP) {
                c = c.withWarmupSteps(warmup);
            }
            if (!option.equals(REFERENCE_OPTION)) {
                c = c.withClipOption(ZClipper.ClipOption.MEAN);
            }
            if (Double.isNaN(max)) {
                c = c.withoutMaxNorm();
            } else if (max != REFERENCE_MAX) {
                c = c.withMaxNorm(max);
            }
            if (skipUpdateOnSpike) {
                c = c.withSkipStatisticsOnSpike(true);
            }
            return c;
        }
    }

    static Stream<Golden> cases() throws IOException {
        List<Golden> cases = new ArrayList<>();
        try (InputStream in = ZClipGoldenTest.class.getResourceAsStream("/golden/zclip_golden.txt")) {
            assertThat(in).as("golden/zclip_golden.txt on the test class path").isNotNull();
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
                switch (f[0]) {
                    case "case" -> {
                        c = new Golden();
                        c.name = f[1];
                    }
                    case "alpha" -> c.alpha = Double.parseDouble(f[1]);
                    case "z" -> c.z = Double.parseDouble(f[1]);
                    case "warmup" -> c.warmup = Integer.parseInt(f[1]);
                    case "option" -> c.option = f[1];
                    case "max" -> c.max = f[1].equals("none") ? Double.NaN : Double.parseDouble(f[1]);
                    case "skip_update_on_spike" -> c.skipUpdateOnSpike = Boolean.parseBoolean(f[1]);
                    case "step" -> c.steps.add(new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                        Double.parseDouble(f[3])});
                    case "mean" -> c.mean = Double.parseDouble(f[1]);
                    case "variance" -> c.variance = Double.parseDouble(f[1]);
                    case "clipped" -> c.clipped = Integer.parseInt(f[1]);
                    case "end" -> cases.add(c);
                    default -> throw new IllegalStateException("zclip_golden.txt line " + lineNo + ": unknown key "
                            + f[0]);
                }
            }
        }
        assertThat(cases).hasSizeGreaterThanOrEqualTo(8);
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void followsTheReferenceStepByStep(Golden golden) {
        ZClipper c = golden.clipper();
        int clipped = 0;
        for (int k = 0; k < golden.steps.size(); k++) {
            double[] s = golden.steps.get(k);
            float[] g = {(float) s[0]};
            assertThat((double) g[0]).as("step %d input is a float32", k).isEqualTo(s[0]);
            ClipReport r = c.clip(GradientSet.of(g));
            assertThat(r.normBefore()).as("step %d", k).isEqualTo(s[0]);
            assertThat(r.coefficient()).as("step %d coefficient", k).isCloseTo(s[1], within(1e-15));
            assertThat((double) g[0]).as("step %d clipped value", k).isEqualTo(s[2]);
            assertThat(r.clipped()).as("step %d", k).isEqualTo(s[1] != 1.0);
            clipped += r.clipped() ? 1 : 0;
        }
        assertThat(clipped).isEqualTo(golden.clipped);
        assertThat(c.mean()).isCloseTo(golden.mean, within(1e-15 * golden.mean));
        assertThat(c.variance()).isCloseTo(golden.variance, within(1e-15 * golden.variance));
    }
}
