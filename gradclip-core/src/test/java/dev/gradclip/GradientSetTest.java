package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The gradient set builder: its validation messages, layout, groups and units. */
class GradientSetTest {

    @Test
    void duplicateNamesAreRejected() {
        GradientSet.Builder b = GradientSet.builder().add("fc1.weight", new float[6], 2, 3);
        assertThatThrownBy(() -> b.add("fc1.weight", new float[6], 3, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'fc1.weight'", "twice", "unique");
    }

    @Test
    void shapeMismatchNamesTensorShapeAndLength() {
        assertThatThrownBy(() -> GradientSet.builder().add("fc1.weight", new float[7], 2, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'fc1.weight'", "[2, 3]", "6 elements", "7");
        assertThatThrownBy(() -> GradientSet.builder().add("s", new float[2]))
                .as("a scalar has one element").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'s'", "[]", "2");
        assertThatThrownBy(() -> GradientSet.builder().add("neg", new float[0], 2, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("'neg'", "negative", "[2, -1]");
    }

    @Test
    void parameterLengthMismatchNamesBothLengths() {
        assertThatThrownBy(() -> GradientSet.builder().add("fc1.bias", new float[4], new float[5], 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("'fc1.bias'", "4 gradient values", "5 parameter values");
    }

    @Test
    void nullsAreRejectedWithTheirNames() {
        assertThatThrownBy(() -> GradientSet.builder().add("w", null, 1)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'w'");
        assertThatThrownBy(() -> GradientSet.builder().add(null, new float[1], 1))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> GradientSet.of(new float[] {1f}, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("grads[1]");
    }

    @Test
    void aRejectedTensorLeavesTheBuilderUsable() {
        GradientSet.Builder b = GradientSet.builder().add("a", new float[2], 2);
        assertThatThrownBy(() -> b.add("b", new float[3], 2)).isInstanceOf(IllegalArgumentException.class);
        GradientSet set = b.add("b", new float[2], 2).build();
        assertThat(set.tensorCount()).isEqualTo(2);
        assertThat(set.name(1)).isEqualTo("b");
    }

    @Test
    void layoutGroupsAndUnits() {
        float[] w = new float[24];
        float[] p = new float[24];
        GradientSet set = GradientSet.builder()
                .add("conv1.weight", w, p, 2, 3, 2, 2)
                .add("conv1.bias", new float[2], 2)
                .add("head", "classifier", new float[3], null, 3)
                .add("scale", new float[1])
                .build();
        assertThat(set.tensorCount()).isEqualTo(4);
        assertThat(set.group(0)).isEqualTo("conv1");
        assertThat(set.group(1)).isEqualTo("conv1");
        assertThat(set.group(2)).isEqualTo("classifier");
        assertThat(set.group(3)).isEqualTo("scale");
        assertThat(set.shape(0)).containsExactly(2, 3, 2, 2);
        assertThat(set.shape(3)).isEmpty();
        assertThat(set.size(0)).isEqualTo(24);
        assertThat(set.size(3)).isEqualTo(1);
        assertThat(set.unitCount(0)).isEqualTo(2);
        assertThat(set.unitCount(1)).isEqualTo(1);
        assertThat(set.unitCount(3)).isEqualTo(1);
        assertThat(set.hasParameter(0)).isTrue();
        assertThat(set.hasParameter(1)).isFalse();
        assertThat(set.gradient(0)).isSameAs(w);
        assertThat(set.parameter(0)).isSameAs(p);
        // shapes are copied in and out
        long[] shape = set.shape(0);
        shape[0] = 99;
        assertThat(set.shape(0)[0]).isEqualTo(2);
        assertThat(set.toString()).contains("conv1.weight[2, 3, 2, 2]", "scale[]");
        assertThatThrownBy(() -> set.unitNorms(1, true, new double[1])).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'conv1.bias'");
    }

    @Test
    void unitNormsAndScaleUnitsFollowTheFirstAxis() {
        float[] g = {3f, 4f, 0f, 0f, 1f, 0f};
        GradientSet set = GradientSet.builder().add("w", g, g.clone(), 3, 2).build();
        double[] norms = new double[3];
        set.unitNorms(0, false, norms);
        assertThat(norms).containsExactly(5.0, 0.0, 1.0);
        set.scaleUnits(0, new double[] {0.5, 1.0, 2.0});
        assertThat(g).containsExactly(1.5f, 2f, 0f, 0f, 2f, 0f);
    }

    @Test
    void scaleAndScaleUnitsApplyFactorsOutsideTheFloatRangeWithoutOverflowOrUnderflow() {
        float[] g = {Float.MIN_VALUE, 0f, 1e-40f, -3e-39f};
        GradientSet set = GradientSet.builder().add("w", g, 2, 2).build();
        // 2^149 rounds to infinity as a float: one multiplication would give [inf, NaN, inf, -inf]
        set.scale(0, 0x1p149);
        assertThat(g).containsExactly(1f, 0f, (float) (1e-40f * 0x1p149), (float) (-3e-39f * 0x1p149));
        // per unit: a huge factor on the first row, a tiny one on the second
        float[] u = {Float.MIN_VALUE, 0f, 3e38f, -1f};
        GradientSet units = GradientSet.builder().add("u", u, 2, 2).build();
        units.scaleUnits(0, new double[] {1e44, 1e-50});
        assertThat((double) u[0]).isCloseTo(Float.MIN_VALUE * 1e44,
                org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertThat(u[1]).isEqualTo(0f);
        assertThat((double) u[2]).isCloseTo(3e38f * 1e-50, org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertThat(Math.abs(u[3])).as("-1e-50 is below the float range").isEqualTo(0f);
    }

    @Test
    void agcWithoutParametersFailsBeforeWriting() {
        float[] g = {100f, 100f};
        GradientSet set = GradientSet.builder().add("a.weight", g, new float[] {1f, 1f}, 1, 2)
                .add("b.weight", new float[] {100f}, 1).build();
        assertThatThrownBy(() -> Clippers.agc(0.01).clip(set)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'b.weight'");
        assertThat(g).containsExactly(100f, 100f);
        assertThat(Clippers.agc(0.01).excluding("b.weight").clip(set).clippedCount()).isEqualTo(1);
    }

    @Test
    void clipperSettingsAreValidatedWhereTheyAreBuilt() {
        assertThatThrownBy(() -> Clippers.agc(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("lambda", "0.0");
        assertThatThrownBy(() -> Clippers.agc(0.1).withEpsilon(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("epsilon", "-1.0");
        assertThatThrownBy(() -> Clippers.globalNorm(1).withEpsilon(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("epsilon", "NaN");
        assertThatThrownBy(() -> Clippers.groupNorm(Double.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("maxNorm", "Infinity");
        assertThatThrownBy(() -> Clippers.globalNorm(1).withNonFinitePolicy(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("policy");
    }
}
