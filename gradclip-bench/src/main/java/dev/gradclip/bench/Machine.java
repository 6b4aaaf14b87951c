package dev.gradclip.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the results were measured on, for the table and the JSON. */
final class Machine {

    private Machine() {
    }

    /** @return the CPU model from {@code /proc/cpuinfo}, or the OS architecture where there is none */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /** @return the Java runtime's name and version */
    static String java() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    }
}
