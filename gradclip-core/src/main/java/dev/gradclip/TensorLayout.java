package dev.gradclip;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The tensors of a whole model in their global order: the name and the group (layer) of each, as a
 * single machine holding every tensor would number them. Every worker of a sharded job holds the
 * same layout; it fixes the order in which per-tensor norms are combined into the global norm, so
 * that every worker combines them as the single machine does, and names the tensors that other
 * workers hold in reports and errors.
 *
 * <p>Small and serialisable, so a driver can build it once and send it to the workers.
 *
 * @param names  the tensors' names, unique, by global index
 * @param groups the tensors' groups, by global index (see {@link Gradients#group(int)})
 */
public record TensorLayout(List<String> names, List<String> groups) implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Makes a layout, copying the lists.
     *
     * @param names  the tensors' names, unique, by global index
     * @param groups the tensors' groups, by global index
     * @throws IllegalArgumentException if the lists differ in length or a name repeats
     * @throws NullPointerException     if a list or an element is null
     */
    public TensorLayout {
        names = List.copyOf(names);
        groups = List.copyOf(groups);
        if (names.size() != groups.size()) {
            throw new IllegalArgumentException("a layout needs one group per tensor, got " + names.size()
                    + " names and " + groups.size() + " groups");
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new IllegalArgumentException("tensor name '" + name + "' appears twice in the layout;"
                        + " names must be unique");
            }
        }
    }

    /**
     * The layout of a whole model's gradients, in their order: what a single machine holding every
     * tensor would see.
     *
     * @param whole the gradients of every tensor of the model
     * @return the layout
     */
    public static TensorLayout of(Gradients whole) {
        Objects.requireNonNull(whole, "whole");
        String[] names = new String[whole.tensorCount()];
        String[] groups = new String[names.length];
        for (int t = 0; t < names.length; t++) {
            names[t] = whole.name(t);
            groups[t] = whole.group(t);
        }
        return new TensorLayout(List.of(names), List.of(groups));
    }

    /** @return the number of tensors in the model */
    public int tensorCount() {
        return names.size();
    }
}
