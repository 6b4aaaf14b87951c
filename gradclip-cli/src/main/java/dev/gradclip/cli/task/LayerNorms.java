package dev.gradclip.cli.task;

import dev.gradclip.ClipReport;
import dev.gradclip.Gradients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gradient norm of every parameter tensor ("layer" in the metrics and the report's heat map),
 * under a human name built from the DJL parameter name: DJL names a parameter by its block's key in
 * the {@code SequentialBlock} (a child index and the block's class, {@code 01RNN}, {@code 03Linear})
 * followed by the parameter's own name ({@code l_0_h2h_WEIGHT}, {@code weight}); this class writes
 * {@code rnn.weight_hh}, {@code output.weight}: the block's class in lower case (numbered when the
 * model has several blocks of that class, the last block of the model called {@code output}) and the
 * parameter in PyTorch's spelling ({@code weight_ih}, {@code bias_hh}, with {@code _l1} for a second
 * recurrent layer). Names that do not follow DJL's pattern (e.g. {@code x}) are kept as they are.
 */
public final class LayerNorms {

    private static final Pattern BLOCK = Pattern.compile("(\\d+)([A-Za-z][A-Za-z0-9]*)");
    private static final Pattern RECURRENT = Pattern.compile("l_(\\d+)_(i2h|h2h)_(WEIGHT|BIAS)", Pattern.CASE_INSENSITIVE);

    private final List<String> layers;

    /**
     * @param gradients the gradients whose tensors are the layers
     */
    public LayerNorms(Gradients gradients) {
        List<String> names = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        for (int t = 0; t < gradients.tensorCount(); t++) {
            names.add(gradients.name(t));
            groups.add(gradients.group(t));
        }
        layers = humanNames(names, groups);
    }

    /**
     * Human names for parameter tensors (see the class comment); when two would collide, or a name
     * does not follow DJL's pattern, the tensor's own name is used.
     *
     * @param names  the tensors' names, e.g. {@code 01RNN_l_0_h2h_WEIGHT}
     * @param groups their groups (owning blocks), e.g. {@code 01RNN}
     * @return one name per tensor, e.g. {@code rnn.weight_hh}
     */
    public static List<String> humanNames(List<String> names, List<String> groups) {
        // blocks in order of first appearance, by class
        List<String> blocks = new ArrayList<>();
        for (String g : groups) {
            if (!blocks.contains(g)) {
                blocks.add(g);
            }
        }
        String last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
        String output = last != null && blocks.size() > 1 && BLOCK.matcher(last).matches()
                && last.toLowerCase(Locale.ROOT).endsWith("linear") ? last : null;
        Map<String, Integer> perClass = new HashMap<>();
        for (String b : blocks) {
            Matcher m = BLOCK.matcher(b);
            if (m.matches() && !b.equals(output)) {
                perClass.merge(m.group(2).toLowerCase(Locale.ROOT), 1, Integer::sum);
            }
        }
        Map<String, String> blockName = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String b : blocks) {
            Matcher m = BLOCK.matcher(b);
            if (b.equals(output)) {
                blockName.put(b, "output");
            } else if (m.matches()) {
                String cls = m.group(2).toLowerCase(Locale.ROOT);
                int k = seen.merge(cls, 1, Integer::sum);
                blockName.put(b, perClass.get(cls) > 1 ? cls + k : cls);
            }
        }
        List<String> out = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (int t = 0; t < names.size(); t++) {
            String name = names.get(t);
            String group = groups.get(t);
            String human = name;
            String block = blockName.get(group);
            if (block != null && name.startsWith(group + "_")) {
                human = block + "." + parameter(name.substring(group.length() + 1));
            }
            if (!used.add(human)) {
                human = name;
                used.add(human);
            }
            out.add(human);
        }
        return List.copyOf(out);
    }

    private static String parameter(String p) {
        Matcher m = RECURRENT.matcher(p);
        if (m.matches()) {
            String kind = m.group(3).toLowerCase(Locale.ROOT);
            String dir = m.group(2).equalsIgnoreCase("i2h") ? "ih" : "hh";
            int layer = Integer.parseInt(m.group(1));
            return kind + "_" + dir + (layer > 0 ? "_l" + layer : "");
        }
        return p.toLowerCase(Locale.ROOT);
    }

    /** @return the layer (tensor) names, in the gradients' order */
    public List<String> layers() {
        return layers;
    }

    /**
     * @param report a clip report over the same gradients
     * @return one norm per tensor (the report's per-tensor norms; NaN where it has none)
     */
    public double[] of(ClipReport report) {
        double[] tensorNorms = report.tensorNorms();
        double[] out = new double[layers.size()];
        java.util.Arrays.fill(out, Double.NaN); // a tensor the report has no norm for is not recorded
        System.arraycopy(tensorNorms, 0, out, 0, Math.min(tensorNorms.length, out.length));
        return out;
    }
}
