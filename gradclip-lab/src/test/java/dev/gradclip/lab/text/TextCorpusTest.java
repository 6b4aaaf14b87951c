package dev.gradclip.lab.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextCorpusTest {

    @TempDir
    Path tmp;

    @Test
    void mapsCharactersByFrequencyAndRareOnesToOneId() {
        StringBuilder sb = new StringBuilder("aaab");
        for (char c = 0x100; c < 0x100 + 200; c++) {
            sb.append(c);
        }
        TextCorpus t = TextCorpus.of(sb, "test");
        assertThat(t.vocabularySize()).isEqualTo(TextCorpus.VOCABULARY);
        assertThat(t.ids()[0]).isZero(); // 'a' is the most frequent
        assertThat(t.ids()[3]).isEqualTo(1);
        assertThat(t.ids()[t.ids().length - 1]).isEqualTo(TextCorpus.VOCABULARY - 1);
        // two equally likely symbols: one bit each
        assertThat(TextCorpus.of("abab", "t").unigramBits(0, 4)).isEqualTo(1.0);
    }

    @Test
    void refusesMissingEmptyAndShortTexts() throws IOException {
        assertThatThrownBy(() -> TextCorpus.load(tmp.resolve("none.txt"), 10)).hasMessageContaining("does not exist");
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "");
        assertThatThrownBy(() -> TextCorpus.load(empty, 10)).hasMessageContaining("0 characters");
        Path ok = Files.writeString(tmp.resolve("ok.txt"), "hello world, hello gradients\n".repeat(10));
        assertThat(TextCorpus.load(ok, 100).ids()).hasSize(290);
    }

    @Test
    void readsTheFortunesWithoutTheirSeparators() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(TextCorpus.FORTUNES), "fortunes not installed");
        TextCorpus t = TextCorpus.load(null, 1000);
        assertThat(t.ids().length).isGreaterThan(10_000);
        assertThat(t.source()).isEqualTo(TextCorpus.FORTUNES.toString());
    }
}
