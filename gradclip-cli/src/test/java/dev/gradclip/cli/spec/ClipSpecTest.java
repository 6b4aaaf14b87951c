package dev.gradclip.cli.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.ZClipper;
import dev.gradclip.cli.spec.ClipSpec.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClipSpecTest {

    @Test
    void parsesEveryMethodWithItsParameters() {
        ClipSpec g = ClipSpec.parse("global-norm:1.5,p=inf");
        assertThat(g.method()).isEqualTo(Method.GLOBAL_NORM);
        assertThat(g.parameters().number("c", 0)).isEqualTo(1.5);
        assertThat(g.parameters().number("p", 0)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(g.policy()).isEqualTo(NonFinitePolicy.THROW);
        assertThat(g.hasSpikeGuard()).isFalse();

        assertThat(ClipSpec.parse("value:0.5").parameters().number("c", 0)).isEqualTo(0.5);
        assertThat(ClipSpec.parse("norm:2").method()).isEqualTo(Method.NORM);
        assertThat(ClipSpec.parse("agc:0.01").parameters().number("lambda", 0)).isEqualTo(0.01);
        assertThat(ClipSpec.parse("autoclip").parameters().has("percentile")).isFalse();
        assertThat(ClipSpec.parse("autoclip:25,window=100").parameters().number("percentile", 0)).isEqualTo(25);
        ClipSpec z = ClipSpec.parse("zclip:z=3,alpha=0.9,max=5,mode=mean");
        assertThat(z.parameters().number("z", 0)).isEqualTo(3);
        assertThat(z.parameters().number("alpha", 0)).isEqualTo(0.9);
        assertThat(z.parameters().word("mode", "")).isEqualTo("mean");
        assertThat(ClipSpec.parse("adagc").method()).isEqualTo(Method.ADAGC);
        assertThat(ClipSpec.parse("none").method()).isEqualTo(Method.NONE);
    }

    @Test
    void combinesSpikeGuardAndPolicyInAnyOrder() {
        ClipSpec a = ClipSpec.parse("zclip+spike-guard:k=5+skip-nonfinite");
        ClipSpec b = ClipSpec.parse("zclip+skip-nonfinite+spike-guard:k=5");
        for (ClipSpec s : new ClipSpec[] {a, b}) {
            assertThat(s.method()).isEqualTo(Method.ZCLIP);
            assertThat(s.hasSpikeGuard()).isTrue();
            assertThat(s.spikeGuard().number("k", 0)).isEqualTo(5);
            assertThat(s.policy()).isEqualTo(NonFinitePolicy.SKIP);
        }
        ClipSpec alone = ClipSpec.parse("spike-guard");
        assertThat(alone.method()).isEqualTo(Method.NONE);
        assertThat(alone.hasSpikeGuard()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"value:1+throw-nonfinite,THROW", "value:1+skip-nonfinite,SKIP", "value:1+zero-nonfinite,ZERO",
        "value:1+propagate-nonfinite,PROPAGATE", "value:1,THROW"})
    void readsTheNonFinitePolicySuffix(String spec, NonFinitePolicy policy) {
        assertThat(ClipSpec.parse(spec).policy()).isEqualTo(policy);
        assertThat(ClipSpec.parse(spec).newClipper().nonFinitePolicy()).isEqualTo(policy);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bogus", "value", "value:0", "value:-1", "value:NaN", "value:inf", "value:1e999",
        "global-norm:1,p=0.5", "global-norm:1,q=2", "global-norm:1,p=2,p=3", "autoclip:0", "autoclip:101",
        "zclip:alpha=1", "zclip:z=-1", "zclip:mode=median", "zclip:max=0", "zclip:max=-1", "zclip:max=inf",
        "zclip:max=nothing", "zclip:max=", "value:1+value:2", "value:1+skip-nonfinite+zero-nonfinite",
        "value:1+spike-guard+spike-guard", "skip-nonfinite", "value:1+", "value:1+maybe-nonfinite",
        "value:1+skip-nonfinite:3", "agc", "norm:abc", "autoclip:10,window=0", "autoclip:10,window=1.5"})
    void rejectsBadSpecsNamingTheProblem(String spec) {
        assertThatThrownBy(() -> ClipSpec.parse(spec)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spec");
    }

    @Test
    void errorMessagesNameTheParameterAndValue() {
        assertThatThrownBy(() -> ClipSpec.parse("value:-1"))
                .hasMessage("spec 'value:-1': value parameter 'c' must be finite and positive, got -1");
        assertThatThrownBy(() -> ClipSpec.parse("global-norm:1,q=2"))
                .hasMessageContaining("unknown parameter 'q'").hasMessageContaining("known: p, eps");
    }

    @Test
    void buildsWorkingClippers() {
        float[] g = {3f, 4f};
        Clipper c = ClipSpec.parse("global-norm:1").newClipper();
        var report = c.clip(GradientSet.of(g));
        assertThat(report.normBefore()).isEqualTo(5.0);
        assertThat(Math.hypot(g[0], g[1])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));

        float[] h = {3f, 4f};
        var none = ClipSpec.parse("none").newClipper().clip(GradientSet.of(h));
        assertThat(none.normBefore()).isEqualTo(5.0);
        assertThat(none.clipped()).isFalse();
        assertThat(h).containsExactly(3f, 4f);
    }

    @Test
    void buildsTheAdaptiveClippersWithTheirParameters() {
        assertThat(ClipSpec.parse("autoclip:25,window=50").newClipper().method()).isEqualTo("autoclip");
        assertThat(ClipSpec.parse("zclip:z=3,alpha=0.9,max=5,mode=mean,skip").newClipper().method()).isEqualTo("zclip");
        assertThat(ClipSpec.parse("adagc:start=10,beta=0.9").newClipper().method()).isEqualTo("adagc");
        Clipper guarded = ClipSpec.parse("global-norm:1+spike-guard:k=3,window=10,warmup=5+skip-nonfinite").newClipper();
        assertThat(guarded.nonFinitePolicy()).isEqualTo(NonFinitePolicy.SKIP);
        // five steady norms fill the warm-up, then a 100x spike is skipped and the gradients are left alone
        for (int i = 0; i < 5; i++) {
            assertThat(guarded.clip(GradientSet.of(new float[] {0.6f, 0.8f})).skipped()).isFalse();
        }
        float[] spike = {60f, 80f};
        var report = guarded.clip(GradientSet.of(spike));
        assertThat(report.skipped()).isTrue();
        assertThat(spike).containsExactly(60f, 80f);
    }

    @Test
    void zclipDefaultsToTheReferenceCapOfOneAndMaxNoneRemovesIt() {
        ZClipper defaults = (ZClipper) ClipSpec.parse("zclip").newClipper();
        assertThat(defaults.maxNorm()).isEqualTo(1.0);
        assertThat(defaults.toString()).isEqualTo(Clippers.zClip().toString());
        ZClipper uncapped = (ZClipper) ClipSpec.parse("zclip:max=none").newClipper();
        assertThat(uncapped.maxNorm()).isNaN();
        assertThat(uncapped.toString()).isEqualTo(Clippers.zClip().withoutMaxNorm().toString());
        assertThat(ClipSpec.parse("zclip:max=NONE").parameters().number("max", 0)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(((ZClipper) ClipSpec.parse("zclip:z=3,max=2.5").newClipper()).maxNorm()).isEqualTo(2.5);
        // a huge first gradient is clipped to the cap during warm-up, and left alone without one
        float[] g = {300f, 400f};
        ClipSpec.parse("zclip").newClipper().clip(GradientSet.of(g));
        assertThat(Math.hypot(g[0], g[1])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        float[] h = {300f, 400f};
        ClipSpec.parse("zclip:max=none").newClipper().clip(GradientSet.of(h));
        assertThat(h).containsExactly(300f, 400f);
        assertThatThrownBy(() -> ClipSpec.parse("zclip:max=nothing"))
                .hasMessage("spec 'zclip:max=nothing': zclip parameter 'max' must be a decimal number or none,"
                        + " got 'nothing'");
    }

    @Test
    void labelDropsTheDefaultPolicyAndFolderNameIsSafe() {
        assertThat(ClipSpec.parse("global-norm:1.0+throw-nonfinite").label()).isEqualTo("global-norm:1.0");
        assertThat(ClipSpec.parse("zclip:z=3+skip-nonfinite").folderName()).isEqualTo("zclip_z_3_skip-nonfinite");
    }
}
