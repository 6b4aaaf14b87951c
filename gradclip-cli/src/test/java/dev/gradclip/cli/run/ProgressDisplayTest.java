package dev.gradclip.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressDisplayTest {

    @Test
    void redirectedProgressIsAPlainLineEveryTenPercent() {
        StringWriter err = new StringWriter();
        try (ProgressDisplay p = ProgressDisplay.lines(new PrintWriter(err), 10).start("none seed 1", 200)) {
            for (int s = 1; s <= 200; s++) {
                p.update(s, 1.0 / s);
            }
        }
        String text = err.toString();
        assertThat(text).doesNotContain("\r");
        assertThat(text.lines()).hasSize(10);
        assertThat(text.lines().findFirst().orElseThrow()).startsWith("none seed 1: 10% (step 20/200), loss 0.05");
        assertThat(text.lines().reduce((a, b) -> b).orElseThrow()).startsWith("none seed 1: 100% (step 200/200)");
    }

    @Test
    void aRunThatStopsEarlySaysWhere() {
        StringWriter err = new StringWriter();
        try (ProgressDisplay p = ProgressDisplay.lines(new PrintWriter(err), 10).start("run", 100)) {
            for (int s = 1; s <= 15; s++) {
                p.update(s, 2);
            }
        }
        assertThat(err.toString().lines()).hasSize(2);
        assertThat(err.toString()).contains("run: 15% (step 15/100)");
    }

    @Test
    void notATerminalMeansNoBar() {
        String old = System.getProperty(Terminal.TTY);
        try {
            System.setProperty(Terminal.TTY, "false");
            StringWriter err = new StringWriter();
            try (ProgressDisplay p = ProgressDisplay.auto(new PrintWriter(err)).start("run", 10)) {
                for (int s = 1; s <= 10; s++) {
                    p.update(s, 1);
                }
            }
            assertThat(err.toString()).doesNotContain("\r").doesNotContain("[=");
            assertThat(err.toString().lines()).hasSize(10);

            System.setProperty(Terminal.TTY, "true");
            System.setProperty(Terminal.COLUMNS, "60");
            StringWriter tty = new StringWriter();
            try (ProgressDisplay p = ProgressDisplay.auto(new PrintWriter(tty)).start("run", 10)) {
                p.update(10, 1);
            }
            assertThat(tty.toString()).startsWith("\r").contains("[=").endsWith("\n");
            for (String frame : tty.toString().split("[\r\n]")) {
                assertThat(frame.length()).isLessThanOrEqualTo(59);
            }
        } finally {
            System.clearProperty(Terminal.COLUMNS);
            if (old == null) {
                System.clearProperty(Terminal.TTY);
            } else {
                System.setProperty(Terminal.TTY, old);
            }
        }
    }

    @Test
    void theBarFitsTheTerminalAndKeepsTheLoss() {
        for (int width : new int[] {39, 79, 119, 200}) {
            String line = ProgressDisplay.barLine("global-norm:1.0 seed 3", 150, 300, 0.123456, 10, width);
            assertThat(line.length()).as(line).isLessThanOrEqualTo(width);
            assertThat(line).as(line).contains("loss 0.1235");
            if (width >= 79) {
                assertThat(line).contains("[").contains("150/300").contains(" 50%").contains("10 s left");
            }
        }
        assertThat(ProgressDisplay.barLine("a-long-run-name-that-fills-the-line-by-itself-and-more", 1, 2, 1, 1, 30))
                .hasSize(30);
    }
}
