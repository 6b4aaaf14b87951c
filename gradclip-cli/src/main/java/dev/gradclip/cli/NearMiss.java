package dev.gradclip.cli;

import java.util.Collection;
import java.util.Locale;

/**
 * "Did you mean" for a mistyped name (a task, a clip method, an option, a command): the known name
 * closest to it by edit distance, when it is close enough to be a slip.
 */
public final class NearMiss {

    private NearMiss() {
    }

    /**
     * @param given the name given
     * @param known the names there are
     * @return the known name nearest to {@code given} (case ignored; a swap of two neighbouring letters
     *         counts as one edit) when at most a third of its letters (at least one, at most three)
     *         differ, or one starts with the other; else {@code null}
     */
    public static String closest(String given, Collection<String> known) {
        if (given == null || given.isBlank()) {
            return null;
        }
        String g = given.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            String kl = k.toLowerCase(Locale.ROOT);
            int d = distance(g, kl);
            boolean prefix = g.length() >= 3 && (kl.startsWith(g) || g.startsWith(kl));
            int limit = Math.min(3, Math.max(1, Math.max(g.length(), kl.length()) / 3));
            if ((d <= limit || prefix) && d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    /**
     * @param given the name given
     * @param known the names there are
     * @return {@code "; did you mean 'NAME'?"} for the closest name, or {@code ""}
     */
    public static String hint(String given, Collection<String> known) {
        String c = closest(given, known);
        return c == null ? "" : "; did you mean '" + c + "'?";
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
