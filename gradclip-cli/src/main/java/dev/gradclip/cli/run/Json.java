package dev.gradclip.cli.run;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one Jackson configuration of the command's files: JSON has no NaN or infinity, so a
 * non-finite number is written as {@code null} (as the metrics format promises), and summaries are
 * indented for people.
 */
public final class Json {

    private static final ObjectMapper COMPACT = configure(new ObjectMapper());
    private static final ObjectMapper PRETTY = configure(new ObjectMapper()).enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    private static ObjectMapper configure(ObjectMapper mapper) {
        SimpleModule module = new SimpleModule("gradclip-non-finite-as-null");
        module.addSerializer(Double.class, new FiniteOrNull<>(Double.class));
        module.addSerializer(Double.TYPE, new FiniteOrNull<>(Double.TYPE));
        module.addSerializer(Float.class, new FiniteOrNull<>(Float.class));
        module.addSerializer(Float.TYPE, new FiniteOrNull<>(Float.TYPE));
        return mapper.registerModule(module);
    }

    private static final class FiniteOrNull<T extends Number> extends StdSerializer<T> {
        private static final long serialVersionUID = 1L;

        FiniteOrNull(Class<T> type) {
            super(type);
        }

        @Override
        public void serialize(T value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            double d = value.doubleValue();
            if (Double.isFinite(d)) {
                if (value instanceof Float) {
                    gen.writeNumber(value.floatValue());
                } else {
                    gen.writeNumber(d);
                }
            } else {
                gen.writeNull();
            }
        }
    }

    /**
     * @param value a map, list, record or scalar
     * @return one line of JSON, non-finite numbers as {@code null}
     */
    public static String line(Object value) {
        try {
            return COMPACT.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param value a map, list, record or scalar
     * @return indented JSON, non-finite numbers as {@code null}, ending with a newline
     */
    public static String pretty(Object value) {
        try {
            return PRETTY.writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param text JSON text
     * @return the tree
     * @throws IOException if the text is not JSON
     */
    public static JsonNode read(String text) throws IOException {
        return COMPACT.readTree(text);
    }

    /** @return the shared mapper (compact output) */
    public static ObjectMapper mapper() {
        return COMPACT;
    }

    /**
     * @param node a number or null node
     * @return its value, or NaN for {@code null} or a missing node
     */
    public static double number(JsonNode node) {
        return node == null || node.isNull() || !node.isNumber() ? Double.NaN : node.doubleValue();
    }
}
