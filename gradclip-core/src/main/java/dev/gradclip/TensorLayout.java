package dev.gradclip;

import java.io.Serializable;
import java.util.AbstractList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;

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
        names = new Names(names);
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

    /**
     * The global index of a tensor, looked up in a map built once, with the layout.
     *
     * @param name a tensor's name, or {@code null}
     * @return its index in the layout, or -1 if no tensor of the layout has that name
     */
    int indexOf(String name) {
        return ((Names) names).index.getOrDefault(name, -1);
    }

    /**
     * The layout's names: an immutable list that also holds the map from each name to its index,
     * built once when the layout is made (and checking there that no name repeats), so that a
     * {@link GradientShard} finds its tensors without a map of its own. Its {@code indexOf} uses the
     * map. It serialises as the plain list it wraps, so the layout's serial form is that of a record
     * of two plain lists, and a deserialised layout builds its map again in its constructor.
     */
    private static final class Names extends AbstractList<String> implements RandomAccess, Serializable {

        private static final long serialVersionUID = 1L;

        /** The names, as {@link List#copyOf} made them. */
        private final List<String> list;
        /** Each name's index; never changed after the constructor. */
        private final transient Map<String, Integer> index;

        /**
         * @param list the names, from {@link List#copyOf}
         * @throws IllegalArgumentException if a name repeats
         */
        Names(List<String> list) {
            this.list = list;
            Map<String, Integer> map = new HashMap<>(list.size() * 2);
            for (int i = 0; i < list.size(); i++) {
                String name = list.get(i);
                if (map.put(name, i) != null) {
                    throw new IllegalArgumentException("tensor name '" + name + "' appears twice in the layout;"
                            + " names must be unique");
                }
            }
            this.index = map;
        }

        @Override
        public String get(int i) {
            return list.get(i);
        }

        @Override
        public int size() {
            return list.size();
        }

        /** As {@link List#copyOf}'s lists: a {@code null} is an error. */
        @Override
        public int indexOf(Object o) {
            Objects.requireNonNull(o);
            Integer i = index.get(o);
            return i == null ? -1 : i;
        }

        /** Names are unique: the same as {@link #indexOf}. */
        @Override
        public int lastIndexOf(Object o) {
            return indexOf(o);
        }

        @Override
        public boolean contains(Object o) {
            return indexOf(o) >= 0;
        }

        /** @return the plain list, written in its place */
        private Object writeReplace() {
            return list;
        }
    }
}
