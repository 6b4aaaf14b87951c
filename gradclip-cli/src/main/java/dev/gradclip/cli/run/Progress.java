package dev.gradclip.cli.run;

import java.io.PrintWriter;
import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Live progress of a training run on the terminal: a progress bar (me.tongfei:progressbar) with the
 * current loss, redrawn in place with a carriage return on the error stream, or nothing at all.
 */
public interface Progress extends AutoCloseable {

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
        Progress start(String name, long steps);
    }

    /** @return a factory that shows nothing */
    static Factory none() {
        return (name, steps) -> new Progress() {
            @Override
            public void update(long step, double loss) {
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * @param err where the bar is drawn
     * @return a factory of progress bars drawn on {@code err}
     */
    static Factory bar(PrintWriter err) {
        return (name, steps) -> {
            ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName(name)
                    .setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(200)
                    .setSpeedUnit(ChronoUnit.SECONDS)
                    .showSpeed()
                    .setUnit(" steps", 1)
                    .setConsumer(new DelegatingProgressBarConsumer(line -> {
                        synchronized (err) {
                            err.print('\r');
                            err.print(line);
                            err.flush();
                        }
                    }, 100))
                    .build();
            return new Progress() {
                @Override
                public void update(long step, double loss) {
                    bar.stepTo(step);
                    bar.setExtraMessage(String.format(java.util.Locale.ROOT, " loss %.4g", loss));
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
}
