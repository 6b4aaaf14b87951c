package dev.gradclip.lab.fashion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.lab.DatasetException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {

    @TempDir
    Path tmp;

    private Path write(String name, int magic, int[] dims, int dataBytes, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            for (int i = 0; i < dataBytes; i++) {
                out.writeByte(i % 10);
            }
        }
        Path p = tmp.resolve(name);
        try (OutputStream o = gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
            o.write(bytes.toByteArray());
        }
        return p;
    }

    @Test
    void readsPlainAndGzipFiles() throws IOException {
        IdxFile a = IdxFile.read(write("a.gz", IdxFile.IMAGES_MAGIC, new int[] {2, 28, 28}, 2 * 784, true),
                IdxFile.IMAGES_MAGIC);
        assertThat(a.dims()).containsExactly(2, 28, 28);
        assertThat(a.data()).hasSize(2 * 784);
        IdxFile b = IdxFile.read(write("b", IdxFile.LABELS_MAGIC, new int[] {5}, 5, false), IdxFile.LABELS_MAGIC);
        assertThat(b.data()).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void refusesAHugeDeclaredSizeWithoutAllocatingIt() throws IOException {
        Path hostile = write("huge.gz", IdxFile.IMAGES_MAGIC, new int[] {Integer.MAX_VALUE, 28, 28}, 10, true);
        assertThatThrownBy(() -> IdxFile.read(hostile, IdxFile.IMAGES_MAGIC)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("declares more than");
    }

    @Test
    void refusesTruncatedWrongAndNegativeHeaders() throws IOException {
        Path truncated = write("t", IdxFile.IMAGES_MAGIC, new int[] {1000, 28, 28}, 100, false);
        assertThatThrownBy(() -> IdxFile.read(truncated, IdxFile.IMAGES_MAGIC)).hasMessageContaining("truncated");
        Path wrongMagic = write("w", 0x12345678, new int[] {1}, 1, false);
        assertThatThrownBy(() -> IdxFile.read(wrongMagic, IdxFile.LABELS_MAGIC)).hasMessageContaining("magic");
        Path negative = write("n", IdxFile.LABELS_MAGIC, new int[] {-5}, 0, false);
        assertThatThrownBy(() -> IdxFile.read(negative, IdxFile.LABELS_MAGIC)).hasMessageContaining("positive");
        Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
        assertThatThrownBy(() -> IdxFile.read(empty, IdxFile.LABELS_MAGIC)).hasMessageContaining("truncated");
        assertThatThrownBy(() -> IdxFile.read(tmp.resolve("missing"), IdxFile.LABELS_MAGIC))
                .hasMessageContaining("does not exist");
    }
}
