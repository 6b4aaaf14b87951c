package dev.gradclip.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A plain-text table for the terminal: columns padded to their widest cell, the first left-aligned,
 * the others right-aligned.
 */
final class TextTable {

    private final List<String[]> rows = new ArrayList<>();

    TextTable(String... headers) {
        rows.add(headers);
    }

    TextTable row(Object... cells) {
        String[] s = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            s[i] = String.valueOf(cells[i]);
        }
        rows.add(s);
        return this;
    }

    void print(PrintWriter out) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < cols; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        for (int i = 0; i < rows.size(); i++) {
            StringBuilder sb = new StringBuilder();
            String[] r = rows.get(i);
            for (int c = 0; c < cols; c++) {
                String pad = " ".repeat(width[c] - r[c].length());
                sb.append(c == 0 ? r[c] + pad : pad + r[c]).append(c < cols - 1 ? "  " : "");
            }
            out.println(sb.toString().stripTrailing());
            if (i == 0) {
                int total = 0;
                for (int w : width) {
                    total += w + 2;
                }
                out.println("-".repeat(total - 2));
            }
        }
        out.flush();
    }

    /**
     * @param v a number
     * @return four significant digits, scientific notation for very large or small values, "-" for NaN
     */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v != 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
