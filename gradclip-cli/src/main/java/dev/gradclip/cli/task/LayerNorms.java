package dev.gradclip.cli.task;

import dev.gradclip.ClipReport;
import dev.gradclip.Gradients;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Combines the per-tensor norms of a {@link ClipReport} into one norm per layer (the tensors of a
 * {@link Gradients#group group}), for the report's heat map: {@code ‖layer‖ = sqrt(Σ_t ‖t‖²)} over
 * its tensors, which is the layer's L2 norm when the clipper reports L2 norms.
 */
public final class LayerNorms {

    private final List<String> layers;
    private final int[] layerOf;

    /**
     * @param gradients the gradients whose groups are the layers
     */
    public LayerNorms(Gradients gradients) {
        Map<String, Integer> index = new LinkedHashMap<>();
        layerOf = new int[gradients.tensorCount()];
        for (int t = 0; t < layerOf.length; t++) {
            layerOf[t] = index.computeIfAbsent(gradients.group(t), k -> index.size());
        }
        layers = List.copyOf(new ArrayList<>(index.keySet()));
    }

    /** @return the layer names, in order of first appearance */
    public List<String> layers() {
        return layers;
    }

    /**
     * @param report a clip report over the same gradients
     * @return one norm per layer; NaN if a tensor's norm is NaN, +∞ if one is infinite
     */
    public double[] of(ClipReport report) {
        double[] tensorNorms = report.tensorNorms();
        double[] max = new double[layers.size()];
        for (int t = 0; t < tensorNorms.length; t++) {
            double n = tensorNorms[t];
            int l = layerOf[t];
            max[l] = Double.isNaN(n) || Double.isNaN(max[l]) ? Double.NaN : Math.max(max[l], n);
        }
        double[] sum = new double[layers.size()];
        for (int t = 0; t < tensorNorms.length; t++) {
            int l = layerOf[t];
            if (max[l] > 0 && Double.isFinite(max[l])) {
                double r = tensorNorms[t] / max[l];
                sum[l] += r * r;
            }
        }
        double[] out = new double[layers.size()];
        for (int l = 0; l < out.length; l++) {
            out[l] = max[l] > 0 && Double.isFinite(max[l]) ? max[l] * Math.sqrt(sum[l]) : max[l];
        }
        return out;
    }
}
