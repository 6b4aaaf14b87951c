package dev.gradclip.checkpoint;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One saved moment of a training run: the step it was taken after and a set of named, opaque
 * sections (parameters, optimizer and clipper state, random and data-order state, the position in
 * the metrics file, the run's options). The store does not interpret a section; each owner writes
 * and reads its own bytes (for example {@code TrainingStep.saveState()}).
 *
 * <pre>{@code
 * Checkpoint c = Checkpoint.builder(step)
 *         .section(Checkpoint.PARAMETERS, parameterBytes)
 *         .section(Checkpoint.TRAINING_STATE, trainingStep.saveState())
 *         .section(Checkpoint.OPTIONS, optionsJson)
 *         .build();
 * store.save(c);
 * }</pre>
 *
 * <p>Immutable: the builder copies every array it is given and {@link #section(String)} returns a
 * copy.
 */
public final class Checkpoint {

    /** Conventional section name for the model parameters. */
    public static final String PARAMETERS = "parameters";
    /** Conventional section name for the optimizer moments, clipper statistics and step counters. */
    public static final String TRAINING_STATE = "training-state";
    /** Conventional section name for random-number and data-order state. */
    public static final String RANDOM_STATE = "random-state";
    /** Conventional section name for the metrics written so far (for example a byte offset). */
    public static final String METRICS = "metrics";
    /** Conventional section name for the options the run was started with. */
    public static final String OPTIONS = "options";

    /** The longest section name, in UTF-8 bytes (its length is stored in two bytes). */
    public static final int MAX_NAME_BYTES = 0xFFFF;

    private final long step;
    private final Map<String, byte[]> sections;

    private Checkpoint(long step, Map<String, byte[]> sections) {
        this.step = step;
        this.sections = sections;
    }

    /**
     * Starts a checkpoint taken after {@code step} steps.
     *
     * @param step the number of completed steps, ≥ 0
     * @return a builder
     * @throws IllegalArgumentException if {@code step} is negative
     */
    public static Builder builder(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return new Builder(step);
    }

    /** @return the number of completed steps this checkpoint was taken after */
    public long step() {
        return step;
    }

    /** @return the section names, in the order they were added */
    public Set<String> sectionNames() {
        return Collections.unmodifiableSet(sections.keySet());
    }

    /**
     * @param name a section name
     * @return whether the checkpoint has that section
     */
    public boolean hasSection(String name) {
        return sections.containsKey(name);
    }

    /**
     * Returns a copy of one section's bytes.
     *
     * @param name the section name
     * @return a copy of its bytes
     * @throws IllegalArgumentException if there is no such section (the message lists those present)
     */
    public byte[] section(String name) {
        byte[] b = sections.get(name);
        if (b == null) {
            throw new IllegalArgumentException("checkpoint of step " + step + " has no section '" + name
                    + "'; it has " + sections.keySet());
        }
        return b.clone();
    }

    /**
     * @param name the section name
     * @return the section's bytes decoded as UTF-8 (for text sections such as options)
     * @throws IllegalArgumentException if there is no such section
     */
    public String sectionText(String name) {
        return new String(section(name), StandardCharsets.UTF_8);
    }

    /** @return the total number of section bytes (names excluded) */
    public long dataBytes() {
        long n = 0;
        for (byte[] b : sections.values()) {
            n += b.length;
        }
        return n;
    }

    /** Equality of step and sections: same names in the same order, same bytes. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Checkpoint c) || c.step != step
                || !List.copyOf(sections.keySet()).equals(List.copyOf(c.sections.keySet()))) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : sections.entrySet()) {
            if (!Arrays.equals(e.getValue(), c.sections.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Consistent with {@link #equals(Object)}. */
    @Override
    public int hashCode() {
        int h = Long.hashCode(step);
        for (Map.Entry<String, byte[]> e : sections.entrySet()) {
            h = 31 * h + e.getKey().hashCode();
            h = 31 * h + Arrays.hashCode(e.getValue());
        }
        return h;
    }

    @Override
    public String toString() {
        return "Checkpoint[step " + step + ", sections " + sections.keySet() + ", " + dataBytes() + " bytes]";
    }

    /** Collects the sections of a {@link Checkpoint}. */
    public static final class Builder {
        private final long step;
        private final Map<String, byte[]> sections = new LinkedHashMap<>();

        private Builder(long step) {
            this.step = step;
        }

        /**
         * Adds a section (a copy of {@code data}).
         *
         * @param name the name: non-empty, unique, at most {@link #MAX_NAME_BYTES} UTF-8 bytes
         * @param data the bytes
         * @return this builder
         * @throws IllegalArgumentException if the name is empty, too long or already used
         */
        public Builder section(String name, byte[] data) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(data, () -> "data of section '" + name + "'");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("section name must not be empty");
            }
            int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
            if (nameBytes > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("section name is " + nameBytes + " UTF-8 bytes long; at most "
                        + MAX_NAME_BYTES + " are allowed");
            }
            if (sections.containsKey(name)) {
                throw new IllegalArgumentException("section '" + name + "' is added twice");
            }
            sections.put(name, data.clone());
            return this;
        }

        /**
         * Adds a text section, encoded as UTF-8.
         *
         * @param name the name (see {@link #section(String, byte[])})
         * @param text the text
         * @return this builder
         * @throws IllegalArgumentException if the name is empty, too long or already used
         */
        public Builder section(String name, String text) {
            Objects.requireNonNull(text, () -> "text of section '" + name + "'");
            return section(name, text.getBytes(StandardCharsets.UTF_8));
        }

        /** @return the checkpoint */
        public Checkpoint build() {
            return new Checkpoint(step, new LinkedHashMap<>(sections));
        }

        // the decoder adds sections it has already copied out of the file
        Builder sectionNoCopy(String name, byte[] data) {
            sections.put(name, data);
            return this;
        }
    }
}
