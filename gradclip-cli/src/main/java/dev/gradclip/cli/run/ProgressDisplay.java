package dev.gradclip.cli.run;

import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Live progress of a training run on the error stream: on a terminal a bar with the current loss,
 * redrawn in place with a carriage return and as wide as the terminal; redirected to a file or a pipe,
 * a plain line every 10% of the run; or nothing at all.
 */
public interface ProgressDisplay extends AutoCloseable {

    /**
     * @param step the step just done
     * @param loss its loss
     */
    void update(long step, double loss);

    /** Finishes the bar (a final redraw and a newline). */
    @Override
    void close();

    /** Starts the progress display of one run. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param name  the run's name, shown before the bar
         * @param steps the planned number of steps
         * @return the display
         */
        ProgressDisplay start(String name, long steps);
    }

    /** @return a factory that shows nothing */
    static Factory none() {
        return (name, steps) -> new ProgressDisplay() {
            @Override
            public void update(long step, double loss) {
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * Progress as suits where the error stream goes: a bar redrawn in place, as wide as the terminal,
     * when it is a terminal ({@link Terminal#isTerminal()}), else a plain line every 10% of a run,
     * for logs.
     *
     * @param err the error stream
     * @return the factory
     */
    static Factory auto(PrintWriter err) {
        return Terminal.isTerminal() ? bar(err, Terminal.columns()) : lines(err, 10);
    }

    /**
     * @param err     where the bar is drawn
     * @param columns the terminal's width; the bar's line is kept one column narrower, so it never wraps
     * @return a factory of progress bars drawn on {@code err}, redrawn in place at most five times a
     *         second with a carriage return
     */
    static Factory bar(PrintWriter err, int columns) {
        int width = Math.max(20, columns - 1);
        return (name, steps) -> {
            // me.tongfei's progressbar keeps the state, the refresh thread and the redraw; the line is
            // drawn by barLine, which fits the terminal and keeps the loss when the screen is narrow
            ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName(name)
                    .setInitialMax(steps)
                    .setUpdateIntervalMillis(200)
                    .setMaxRenderedLength(width)
                    .setRenderer((state, max) -> barLine(state.getTaskName(), state.getCurrent(), state.getMax(),
                            parseLoss(state.getExtraMessage()), state.getElapsedAfterStart().toMillis() / 1e3,
                            Math.min(max, width)))
                    .setConsumer(new DelegatingProgressBarConsumer(line -> {
                        synchronized (err) {
                            err.print('\r');
                            err.print(line);
                            err.print(" ".repeat(Math.max(0, width - line.length())));
                            err.flush();
                        }
                    }, width))
                    .build();
            return new ProgressDisplay() {
                @Override
                public void update(long step, double loss) {
                    bar.stepTo(step);
                    bar.setExtraMessage(Double.toString(loss));
                }

                @Override
                public void close() {
                    bar.close();
                    synchronized (err) {
                        err.println();
                        err.flush();
                    }
                }
            };
        };
    }

    private static double parseLoss(String text) {
        try {
            return text == null || text.isEmpty() ? Double.NaN : Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /**
     * One line of a progress bar: name, percent, bar, step count, loss and time left; when the width
     * is short the bar goes first, then the time left, then the step count, and the line is cut to
     * the width.
     *
     * @param name    the run's name
     * @param step    the steps done
     * @param steps   the planned steps
     * @param loss    the last loss
     * @param seconds the seconds since the run started
     * @param width   the most characters
     * @return the line, at most {@code width} characters
     */
    static String barLine(String name, long step, long steps, double loss, double seconds, int width) {
        double f = steps <= 0 ? 1 : Math.min(1, (double) step / steps);
        String pct = String.format(Locale.ROOT, "%3d%%", (int) Math.floor(100 * f));
        String count = step + "/" + steps;
        String lossText = Double.isNaN(loss) ? "" : String.format(Locale.ROOT, " loss %.4g", loss);
        // the first steps (JIT, warm-up) say little about the rest: no estimate before a second has passed
        String eta = step > 0 && step < steps && seconds >= 1 ? " " + duration(seconds / step * (steps - step)) + " left" : "";
        String head = name + " " + pct + " ";
        String tail = " " + count + lossText + eta;
        int barWidth = width - head.length() - tail.length() - 2;
        String line;
        if (barWidth >= 10) {
            int filled = (int) Math.round(f * barWidth);
            line = head + "[" + "=".repeat(filled) + " ".repeat(barWidth - filled) + "]" + tail;
        } else {
            // narrower: the bar goes first, then the time left, then the step count; the loss stays
            String base = name + " " + pct;
            line = base + lossText;
            for (String fuller : new String[] {base + " " + count + lossText + eta, base + " " + count + lossText}) {
                if (fuller.length() <= width) {
                    line = fuller;
                    break;
                }
            }
        }
        return line.length() > width ? line.substring(0, width) : line;
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : s < 3600 ? (s / 60) + " min " + (s % 60) + " s" : (s / 3600) + " h " + (s % 3600 / 60)
                + " min";
    }

    /**
     * @param err   where the lines go
     * @param every a line each time the run passes another {@code every} percent of its steps
     * @return a factory of plain progress lines, one per {@code every} percent and none redrawn: for
     *         logs and files
     */
    static Factory lines(PrintWriter err, int every) {
        return (name, steps) -> new ProgressDisplay() {
            private final long start = System.nanoTime();
            private long shown = -1;
            private long step;
            private double loss = Double.NaN;

            @Override
            public void update(long s, double l) {
                step = s;
                loss = l;
                long mark = steps <= 0 ? 100 : s * 100 / steps / every * every;
                if (mark > shown && mark > 0) {
                    shown = mark;
                    print(steps <= 0 ? 100 : s * 100 / steps);
                }
            }

            private void print(long percent) {
                String line = String.format(Locale.ROOT, "%s: %d%% (step %d/%d), loss %.4g, %.1f s", name, percent,
                        step, steps, loss, (System.nanoTime() - start) / 1e9);
                synchronized (err) {
                    err.println(line);
                    err.flush();
                }
            }

            @Override
            public void close() {
                // a run that stopped early says where; one that finished printed its 100% line
                if (step > 0 && shown < 100 && step * 100 / Math.max(1, steps) < 100) {
                    print(step * 100 / Math.max(1, steps));
                }
            }
        };
    }
}
