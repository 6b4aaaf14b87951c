package dev.gradclip.cli.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The parameters of one spec part, {@code name:POSITIONAL,key=value,flag}, checked against what the
 * part accepts and converted to typed values.
 *
 * <p>Numbers are decimal ({@code 1}, {@code 0.5}, {@code 1e-3}); {@code inf} is accepted only where
 * a norm type is expected, and {@code none} only where a bound may be absent. Every error names the
 * spec, the parameter and the value.
 */
public final class SpecParameters {

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    /** How a parameter's value is read and checked. */
    public enum Kind {
        /** A finite number above 0. */
        POSITIVE,
        /**
         * A bound: a finite number above 0, or {@code none} for no bound, which
         * {@link SpecParameters#number} returns as {@code +∞}.
         */
        POSITIVE_OR_NONE,
        /** A finite number at or above 0. */
        NON_NEGATIVE,
        /** A number in the open interval (0, 1). */
        FRACTION,
        /** A percentile in (0, 100]. */
        PERCENTILE,
        /** A whole number at or above 1. */
        COUNT,
        /** A norm type p: a number at or above 1, or {@code inf}. */
        NORM_TYPE,
        /** {@code true} or {@code false}; a bare key means {@code true}. */
        FLAG,
        /** A word from a fixed list. */
        WORD
    }

    /**
     * One accepted parameter.
     *
     * @param key   its key ({@code p}, {@code lr}, ...)
     * @param kind  how its value is read
     * @param words the accepted words for {@link Kind#WORD}, else empty
     */
    public record Accepted(String key, Kind kind, List<String> words) {
        /**
         * @param key  the key
         * @param kind the kind (not {@link Kind#WORD})
         * @return the parameter
         */
        public static Accepted of(String key, Kind kind) {
            return new Accepted(key, kind, List.of());
        }

        /**
         * @param key   the key
         * @param words the accepted words
         * @return a {@link Kind#WORD} parameter
         */
        public static Accepted word(String key, String... words) {
            return new Accepted(key, Kind.WORD, List.of(words));
        }
    }

    private final Map<String, Object> values;

    private SpecParameters(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Parses {@code a,k=v,...}.
     *
     * @param spec       the whole spec, for messages
     * @param part       the part's name, for messages
     * @param text       the text after the colon (may be empty)
     * @param positional the parameter a first value without {@code key=} stands for, or {@code null}
     * @param accepted   the parameters the part accepts
     * @return the typed values by key
     * @throws IllegalArgumentException naming the spec, parameter and value when something is wrong
     */
    public static SpecParameters parse(String spec, String part, String text, Accepted positional,
            List<Accepted> accepted) {
        Map<String, Accepted> byKey = new LinkedHashMap<>();
        for (Accepted a : accepted) {
            byKey.put(a.key(), a);
        }
        if (positional != null) {
            byKey.put(positional.key(), positional);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        if (text.isEmpty()) {
            return new SpecParameters(values);
        }
        String[] items = text.split(",", -1);
        for (int i = 0; i < items.length; i++) {
            String item = items[i].trim();
            if (item.isEmpty()) {
                throw new IllegalArgumentException("spec '" + spec + "': empty parameter in '" + part + ":" + text + "'");
            }
            int eq = item.indexOf('=');
            Accepted a;
            String value;
            if (eq < 0 && i == 0 && positional != null && !byKey.containsKey(item)) {
                a = positional;
                value = item;
            } else if (eq < 0) {
                a = byKey.get(item);
                if (a == null || a.kind() != Kind.FLAG) {
                    throw unknown(spec, part, item, byKey, positional);
                }
                value = "true";
            } else {
                a = byKey.get(item.substring(0, eq).trim());
                if (a == null) {
                    throw unknown(spec, part, item.substring(0, eq).trim(), byKey, positional);
                }
                value = item.substring(eq + 1).trim();
            }
            if (values.containsKey(a.key())) {
                throw new IllegalArgumentException("spec '" + spec + "': parameter '" + a.key() + "' of '" + part
                        + "' is given twice");
            }
            values.put(a.key(), convert(spec, part, a, value));
        }
        return new SpecParameters(values);
    }

    private static IllegalArgumentException unknown(String spec, String part, String key, Map<String, Accepted> byKey,
            Accepted positional) {
        StringBuilder known = new StringBuilder();
        for (String k : byKey.keySet()) {
            if (positional != null && k.equals(positional.key())) {
                continue;
            }
            known.append(known.length() == 0 ? "" : ", ").append(k);
        }
        return new IllegalArgumentException("spec '" + spec + "': unknown parameter '" + key + "' for '" + part + "'"
                + (known.length() == 0 ? " (it takes no named parameters)" : " (known: " + known + ")"));
    }

    private static Object convert(String spec, String part, Accepted a, String value) {
        String where = "spec '" + spec + "': " + part + " parameter '" + a.key() + "' ";
        switch (a.kind()) {
            case FLAG: {
                String v = value.toLowerCase(Locale.ROOT);
                if (v.equals("true") || v.equals("false")) {
                    return Boolean.valueOf(v);
                }
                throw new IllegalArgumentException(where + "must be true or false, got '" + value + "'");
            }
            case WORD:
                if (a.words().contains(value)) {
                    return value;
                }
                throw new IllegalArgumentException(where + "must be one of " + a.words() + ", got '" + value + "'");
            case COUNT: {
                double d = number(where, value);
                if (d < 1 || d != Math.rint(d) || d > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(where + "must be a whole number >= 1, got " + value);
                }
                return (int) d;
            }
            case NORM_TYPE: {
                if (value.equalsIgnoreCase("inf") || value.equalsIgnoreCase("infinity")) {
                    return Double.POSITIVE_INFINITY;
                }
                double d = number(where, value);
                if (!(d >= 1)) {
                    throw new IllegalArgumentException(where + "(the norm type) must be >= 1 or inf, got " + value);
                }
                return d;
            }
            case POSITIVE_OR_NONE: {
                if (value.equalsIgnoreCase("none")) {
                    return Double.POSITIVE_INFINITY;
                }
                if (!NUMBER.matcher(value).matches()) {
                    throw new IllegalArgumentException(where + "must be a decimal number or none, got '" + value
                            + "'");
                }
                double d = number(where, value);
                if (!(d > 0)) {
                    throw new IllegalArgumentException(where + "must be finite and positive, or none, got " + value);
                }
                return d;
            }
            case POSITIVE: {
                double d = number(where, value);
                if (!(d > 0)) {
                    throw new IllegalArgumentException(where + "must be finite and positive, got " + value);
                }
                return d;
            }
            case NON_NEGATIVE: {
                double d = number(where, value);
                if (!(d >= 0)) {
                    throw new IllegalArgumentException(where + "must be finite and >= 0, got " + value);
                }
                return d;
            }
            case FRACTION: {
                double d = number(where, value);
                if (!(d > 0 && d < 1)) {
                    throw new IllegalArgumentException(where + "must lie strictly between 0 and 1, got " + value);
                }
                return d;
            }
            case PERCENTILE: {
                double d = number(where, value);
                if (!(d > 0 && d <= 100)) {
                    throw new IllegalArgumentException(where + "(a percentile) must lie in (0, 100], got " + value);
                }
                return d;
            }
            default:
                throw new IllegalStateException(a.kind().toString());
        }
    }

    private static double number(String where, String value) {
        if (!NUMBER.matcher(value).matches()) {
            throw new IllegalArgumentException(where + "must be a decimal number, got '" + value + "'");
        }
        double d = Double.parseDouble(value);
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException(where + "must be finite, got " + value);
        }
        return d;
    }

    /**
     * @param key a parameter key
     * @return whether the spec gave it
     */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /**
     * @param key      a numeric parameter
     * @param fallback the value when absent
     * @return the value
     */
    public double number(String key, double fallback) {
        Object v = values.get(key);
        return v == null ? fallback : ((Number) v).doubleValue();
    }

    /**
     * @param key      a count parameter
     * @param fallback the value when absent
     * @return the value
     */
    public int count(String key, int fallback) {
        Object v = values.get(key);
        return v == null ? fallback : (Integer) v;
    }

    /**
     * @param key      a flag
     * @param fallback the value when absent
     * @return the value
     */
    public boolean flag(String key, boolean fallback) {
        Object v = values.get(key);
        return v == null ? fallback : (Boolean) v;
    }

    /**
     * @param key      a word parameter
     * @param fallback the value when absent
     * @return the value
     */
    public String word(String key, String fallback) {
        Object v = values.get(key);
        return v == null ? fallback : (String) v;
    }

    /** @return the given values by key, in the order given */
    public Map<String, Object> values() {
        return values;
    }
}
