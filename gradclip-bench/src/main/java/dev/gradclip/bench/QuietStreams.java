package dev.gradclip.bench;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Drops the one line every forked JVM prints about the incubator module, and libtorch's deprecation
 * warning in the DJL forks, which JMH passes on, so the progress lines stay readable; everything
 * else goes through unchanged.
 */
final class QuietStreams implements AutoCloseable {

    private static final String NOISE = "WARNING: Using incubator modules";
    /** libtorch 2.7 warns once per process that DJL uses a deprecated dispatch mode. */
    private static final String LIBTORCH_NOISE = "Warning: AutoNonVariableTypeMode is deprecated";

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
            String pending = line.toString(StandardCharsets.UTF_8);
            // a partial line that may still become one of the dropped ones waits for its end
            boolean mayBeNoise = NOISE.startsWith(pending) || pending.startsWith(NOISE) || pending.startsWith("[W");
            if (line.size() > 0 && !mayBeNoise) {
                flushLine();
            }
            target.flush();
        }

        private void flushLine() {
            String s = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (!s.startsWith(NOISE) && !s.contains(LIBTORCH_NOISE)) {
                target.print(s);
            }
        }
    }
}
