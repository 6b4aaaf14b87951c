package dev.gradclip.bench;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Drops the one line every forked JVM prints about the incubator module, which JMH passes on, so
 * the progress lines stay readable; everything else goes through unchanged.
 */
final class QuietStreams implements AutoCloseable {

    private static final String NOISE = "WARNING: Using incubator modules";

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    /** Replaces {@code System.out} and {@code System.err} until {@link #close()}. */
    QuietStreams() {
        System.setOut(filtered(out));
        System.setErr(filtered(err));
    }

    @Override
    public void close() {
        System.out.flush();
        System.err.flush();
        System.setOut(out);
        System.setErr(err);
    }

    private static PrintStream filtered(PrintStream target) {
        return new PrintStream(new LineFilter(target), true, StandardCharsets.UTF_8);
    }

    /** Buffers one line at a time and forwards those that are not the noise. */
    private static final class LineFilter extends OutputStream {
        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineFilter(PrintStream target) {
            this.target = target;
        }

        @Override
        public synchronized void write(int b) {
            line.write(b);
            if (b == '\n') {
                flushLine();
            }
        }

        @Override
        public synchronized void flush() {
            if (line.size() > 0 && !line.toString(StandardCharsets.UTF_8).startsWith(NOISE.substring(0,
                    Math.min(NOISE.length(), line.size())))) {
                flushLine();
            }
            target.flush();
        }

        private void flushLine() {
            String s = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (!s.startsWith(NOISE)) {
                target.print(s);
            }
        }
    }
}
