package dev.gradclip.lab.text;

import dev.gradclip.lab.DatasetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The text a character language model trains on, as ids over a small vocabulary: the
 * {@value #VOCABULARY} most frequent characters, every other character mapped to one shared id.
 *
 * <p>Sources: a {@code --text FILE}, or Debian's fortunes ({@code fortunes-min} / {@code fortunes})
 * under {@code /usr/share/games/fortunes}, whose quotes are separated by {@code %} lines (dropped).
 * Files above {@value #MAX_BYTES} bytes, empty ones and ones too short for one training sequence are
 * refused with a clear message. A {@code --text} file must be UTF-8 text: a byte that is not valid
 * UTF-8, or a control byte other than tab, newline and carriage return (a NUL in a binary file),
 * is refused naming its offset; in the fortunes, undecodable bytes become U+FFFD.
 *
 * @param ids        the text as ids
 * @param vocabulary the characters of ids {@code 0 .. size-2}; the last id is "any other"
 * @param source     where the text came from
 */
public record TextCorpus(int[] ids, char[] vocabulary, String source) {

    /** Where Debian's fortunes packages install the quotes. */
    public static final Path FORTUNES = Path.of("/usr/share/games/fortunes");
    /** The most distinct characters kept. */
    public static final int VOCABULARY = 96;
    /** The largest text file read. */
    public static final long MAX_BYTES = 64L << 20;

    /** @return the number of ids, the characters kept plus one for all others */
    public int vocabularySize() {
        return vocabulary.length + 1;
    }

    /**
     * @param text      a text file, or {@code null} for the fortunes
     * @param minLength the fewest characters needed
     * @return the corpus
     * @throws DatasetException if the text is missing, empty, too large or too short
     */
    public static TextCorpus load(Path text, int minLength) {
        StringBuilder sb = new StringBuilder();
        String source;
        if (text != null) {
            if (!Files.isRegularFile(text)) {
                throw new DatasetException("--text " + text + " does not exist or is not a file");
            }
            sb.append(read(text, true));
            source = text.toString();
        } else {
            if (!Files.isDirectory(FORTUNES)) {
                throw new DatasetException("the fortunes corpus is not installed (" + FORTUNES + " is missing): install it"
                        + " with 'sudo apt-get install fortunes-min' or pass --text FILE");
            }
            List<Path> files = new ArrayList<>();
            try (Stream<Path> s = Files.list(FORTUNES)) {
                s.filter(Files::isRegularFile).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new DatasetException("cannot list " + FORTUNES + ": " + e.getMessage());
            }
            for (Path f : files) {
                String name = f.getFileName().toString();
                // fortune's index files (.dat) are binary; a .u8 file is the UTF-8 twin of the plain one
                if (name.endsWith(".dat") || (!name.endsWith(".u8") && files.contains(f.resolveSibling(name + ".u8")))) {
                    continue;
                }
                for (String line : read(f, false).split("\n", -1)) {
                    if (!line.equals("%")) {
                        sb.append(line).append('\n');
                    }
                }
            }
            source = FORTUNES.toString();
        }
        if (sb.length() < minLength) {
            throw new DatasetException("the text from " + source + " has " + sb.length() + " characters; at least "
                    + minLength + " are needed (a longer --text, or a shorter --length)");
        }
        return of(sb, source);
    }

    private static String read(Path file, boolean strict) {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new DatasetException(file + " has " + size + " bytes; the character model reads at most " + MAX_BYTES);
            }
            byte[] bytes = Files.readAllBytes(file);
            if (strict) {
                checkText(file, bytes);
            }
            CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
            return d.decode(ByteBuffer.wrap(bytes)).toString().replace("\r\n", "\n");
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Refuses bytes that are not UTF-8 text.
     *
     * @param file  the file, for the message
     * @param bytes its content
     * @throws DatasetException naming the offset of the first control byte (other than tab, newline
     *                        and carriage return) or invalid UTF-8 sequence
     */
    static void checkText(Path file, byte[] bytes) {
        long bad = firstBadByte(bytes);
        if (bad < 0) {
            return;
        }
        int b = bytes[(int) bad] & 0xff;
        String what = b < 0x20 || b == 0x7f ? (b == 0 ? "a NUL byte" : "a control byte")
                : "not valid UTF-8";
        throw new DatasetException(String.format(java.util.Locale.ROOT,
                "--text %s is not a UTF-8 text file: byte %d (0x%02x) is %s; pass a plain text file", file, bad, b,
                what));
    }

    /**
     * Finds where bytes stop being UTF-8 text.
     *
     * @param bytes a file's content
     * @return the offset of its first control byte (other than tab, newline and carriage return) or
     *         first byte of an invalid UTF-8 sequence, or -1 when it is UTF-8 text
     */
    public static long firstBadByte(byte[] bytes) {
        long control = -1;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) {
                control = i;
                break;
            }
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, control < 0 ? bytes.length : (int) control);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8192);
        while (true) {
            java.nio.charset.CoderResult r = d.decode(in, out, true);
            if (r.isError()) {
                return in.position();
            }
            if (r.isOverflow()) {
                out.clear();
                continue;
            }
            return control; // UTF-8 keeps no state to flush
        }
    }

    /**
     * @param text   the text
     * @param source its origin, for messages
     * @return the corpus, the vocabulary ordered by frequency (ties by character)
     */
    static TextCorpus of(CharSequence text, String source) {
        Map<Character, Integer> counts = new HashMap<>();
        for (int i = 0; i < text.length(); i++) {
            counts.merge(text.charAt(i), 1, Integer::sum);
        }
        List<Map.Entry<Character, Integer>> entries = new ArrayList<>(counts.entrySet());
        entries.sort((a, b) -> a.getValue().equals(b.getValue()) ? Character.compare(a.getKey(), b.getKey())
                : Integer.compare(b.getValue(), a.getValue()));
        int kept = Math.min(VOCABULARY - 1, entries.size());
        char[] vocabulary = new char[kept];
        Map<Character, Integer> index = new HashMap<>();
        for (int i = 0; i < kept; i++) {
            vocabulary[i] = entries.get(i).getKey();
            index.put(vocabulary[i], i);
        }
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = index.getOrDefault(text.charAt(i), kept);
        }
        return new TextCorpus(ids, vocabulary, source);
    }

    /**
     * The entropy of the id distribution over a range, in bits per character: what a model that
     * ignores context (unigram frequencies) achieves at best.
     *
     * @param from first index
     * @param to   end index (exclusive)
     * @return the entropy
     */
    public double unigramBits(int from, int to) {
        long[] counts = new long[vocabularySize()];
        for (int i = from; i < to; i++) {
            counts[ids[i]]++;
        }
        double h = 0;
        double n = to - from;
        for (long c : counts) {
            if (c > 0) {
                h -= c / n * Math.log(c / n) / Math.log(2);
            }
        }
        return h;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TextCorpus t && Arrays.equals(ids, t.ids) && Arrays.equals(vocabulary, t.vocabulary)
                && source.equals(t.source);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids) * 31 + Arrays.hashCode(vocabulary);
    }

    @Override
    public String toString() {
        return "TextCorpus[" + ids.length + " characters from " + source + ", " + vocabularySize() + " ids]";
    }
}
