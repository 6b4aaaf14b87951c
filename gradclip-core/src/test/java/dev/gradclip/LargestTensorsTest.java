package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The report's largest tensors: the order of a stable descending sort, whatever the selection does. */
class LargestTensorsTest {

    @Property(tries = 500)
    void sameAsAStableDescendingSort(@ForAll("norms") @Size(max = 40) List<Double> values,
            @ForAll @IntRange(min = 0, max = 8) int k) {
        double[] norms = values.stream().mapToDouble(Double::doubleValue).toArray();
        float[][] arrays = new float[Math.max(1, norms.length)][1];
        GradientSet g = GradientSet.of(arrays);
        if (norms.length == 0) {
            assertThat(AbstractClipper.largest(g, norms, k)).isEmpty();
            return;
        }
        assertThat(AbstractClipper.largest(g, norms, k)).isEqualTo(bySort(g, norms, k));
    }

    @Provide
    Arbitrary<List<Double>> norms() {
        // few distinct values, so that ties (and -0.0 against 0.0) are common
        return Arbitraries.of(0.0, -0.0, 1.0, 2.0, 2.0, 3.5, Double.NaN, Double.POSITIVE_INFINITY, 1e-300)
                .list();
    }

    /** The implementation this replaced: a stable sort of every index. */
    private static List<TensorNorm> bySort(Gradients g, double[] norms, int k) {
        Integer[] order = new Integer[norms.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> norms[i]).reversed());
        List<TensorNorm> out = new ArrayList<>();
        for (int i = 0; i < Math.min(k, norms.length); i++) {
            out.add(new TensorNorm(g.name(order[i]), order[i], norms[order[i]]));
        }
        return out;
    }
}
