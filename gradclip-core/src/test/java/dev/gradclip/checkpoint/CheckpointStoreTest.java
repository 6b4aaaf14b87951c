package dev.gradclip.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

    @TempDir
    Path dir;

    private static Checkpoint sample(long step) {
        byte[] params = new byte[64];
        new Random(step).nextBytes(params);
        return Checkpoint.builder(step)
                .section(Checkpoint.PARAMETERS, params)
                .section(Checkpoint.TRAINING_STATE, new byte[] {1, 2, 3})
                .section(Checkpoint.METRICS, new byte[0])
                .section(Checkpoint.OPTIONS, "{\"task\":\"quadratic\",\"seed\":" + step + "}")
                .build();
    }

    @Test
    void aSavedCheckpointReadsBackIdentically() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir.resolve("new/sub"));
        Path file = store.save(sample(7));

        assertThat(file.getFileName().toString()).isEqualTo("checkpoint-00000007.gcp");
        Checkpoint back = CheckpointStore.read(file);
        assertThat(back).isEqualTo(sample(7));
        assertThat(back.sectionNames()).containsExactly(Checkpoint.PARAMETERS, Checkpoint.TRAINING_STATE,
                Checkpoint.METRICS, Checkpoint.OPTIONS);
        assertThat(back.sectionText(Checkpoint.OPTIONS)).isEqualTo("{\"task\":\"quadratic\",\"seed\":7}");
        Optional<CheckpointStore.Loaded> latest = store.loadLatest();
        assertThat(latest).isPresent();
        assertThat(latest.get().fellBack()).isFalse();
        assertThat(latest.get().checkpoint()).isEqualTo(sample(7));
    }

    @Test
    void onlyTheLastTwoAreKeptAndNoTemporaryFileRemains() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        for (long step = 10; step <= 50; step += 10) {
            store.save(sample(step));
        }
        assertThat(store.files()).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint-00000050.gcp", "checkpoint-00000040.gcp");
        try (var s = Files.list(dir)) {
            assertThat(s).hasSize(2);
        }
    }

    @Test
    void savingAnEarlierStepDeletesTheStaleLaterOnes() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir, 3);
        store.save(sample(10));
        store.save(sample(20));
        store.save(sample(30));
        store.save(sample(20));

        assertThat(store.files()).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint-00000020.gcp", "checkpoint-00000010.gcp");
    }

    @Test
    void aTemporaryFileLeftByAKilledWriterIsIgnoredThenCleanedUp() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        store.save(sample(1));
        Path leftover = dir.resolve(".checkpoint-2-123.tmp");
        Files.write(leftover, Arrays.copyOf(CheckpointFormat.encode(sample(2)), 30));

        assertThat(store.loadLatest().orElseThrow().checkpoint().step()).isEqualTo(1);
        store.save(sample(3));
        assertThat(leftover).doesNotExist();
    }

    @Test
    void clearDeletesCheckpointsAndTemporariesOnly() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        store.save(sample(1));
        store.save(sample(2));
        Files.write(dir.resolve(".checkpoint-3-9.tmp"), new byte[3]);
        Path other = Files.writeString(dir.resolve("progress.log"), "kept");

        store.clear();

        try (var s = Files.list(dir)) {
            assertThat(s).containsExactly(other);
        }
        CheckpointStore.in(dir.resolve("absent")).clear();
    }

    @Test
    void anEmptyOrMissingDirectoryHasNoCheckpoint() throws IOException {
        assertThat(CheckpointStore.in(dir).loadLatest()).isEmpty();
        assertThat(CheckpointStore.in(dir.resolve("absent")).loadLatest()).isEmpty();
    }

    @Test
    void aTruncatedNewestCheckpointFallsBackToThePreviousWithAMessageNamingIt() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        store.save(sample(100));
        Path newest = store.save(sample(200));
        byte[] whole = Files.readAllBytes(newest);
        for (int length : new int[] {0, 1, 5, 8, 19, 20, 35, whole.length / 2, whole.length - 1}) {
            Files.write(newest, Arrays.copyOf(whole, length));

            CheckpointStore.Loaded loaded = store.loadLatest().orElseThrow();

            assertThat(loaded.checkpoint()).as("cut at %d", length).isEqualTo(sample(100));
            assertThat(loaded.fellBack()).isTrue();
            assertThat(loaded.passedOver()).singleElement().asString()
                    .contains(newest.toString())
                    .containsAnyOf("truncated", "empty");
            assertThat(loaded.messages()).singleElement().asString()
                    .contains("using checkpoint-00000100.gcp (step 100) instead");
        }
    }

    @Test
    void everySingleBitFlipIsDetected() throws IOException {
        Path file = CheckpointStore.in(dir).save(sample(3));
        byte[] good = Files.readAllBytes(file);
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit += 3) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(file, bad);
                assertThatThrownBy(() -> CheckpointStore.read(file)).as("byte %d bit %d", i, bit)
                        .isInstanceOf(CheckpointException.class)
                        .hasMessageContaining(file.toString());
            }
        }
    }

    @Test
    void aFlippedPayloadByteIsReportedAsAChecksumMismatchAndThePreviousIsUsed() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        store.save(sample(1));
        Path newest = store.save(sample(2));
        byte[] bytes = Files.readAllBytes(newest);
        bytes[40] ^= 0x10;
        Files.write(newest, bytes);

        CheckpointStore.Loaded loaded = store.loadLatest().orElseThrow();

        assertThat(loaded.checkpoint().step()).isEqualTo(1);
        assertThat(loaded.passedOver().get(0)).contains("checkpoint-00000002.gcp").contains("checksum mismatch");
    }

    @Test
    void whenEveryCheckpointIsDamagedTheErrorListsEachFile() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        Path older = store.save(sample(1));
        Path newer = store.save(sample(2));
        Files.write(older, new byte[0]);
        Files.write(newer, "hello".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(store::loadLatest)
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("no usable checkpoint in " + dir)
                .hasMessageContaining(older + " is unusable: the file is empty")
                .hasMessageContaining(newer + " is unusable: not a gradclip checkpoint");
    }

    @Test
    void aRenamedCheckpointIsRejected() throws IOException {
        CheckpointStore store = CheckpointStore.in(dir);
        Path file = store.save(sample(5));
        Path renamed = Files.move(file, store.fileFor(9));

        assertThatThrownBy(() -> CheckpointStore.read(renamed))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("its name says step 9 but it holds step 5");
    }

    @Test
    void wrongMagicAndWrongVersionAreNamed() throws IOException {
        Path file = dir.resolve("x.gcp");
        byte[] good = CheckpointFormat.encode(sample(1));

        byte[] zip = good.clone();
        zip[0] = 'P';
        zip[1] = 'K';
        Files.write(file, zip);
        assertThatThrownBy(() -> CheckpointStore.read(file)).hasMessageContaining("wrong magic bytes 504b");

        byte[] v2 = withChecksum(ByteBuffer.wrap(good.clone()).putInt(8, 2).array());
        Files.write(file, v2);
        assertThatThrownBy(() -> CheckpointStore.read(file))
                .hasMessageContaining("format version 2, this gradclip reads version 1");

        assertThatThrownBy(() -> CheckpointStore.read(dir.resolve("missing.gcp")))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void hugeDeclaredSizesGiveAClearErrorNotAnOutOfMemoryError() throws IOException {
        Path file = dir.resolve("hostile.gcp");
        byte[] good = CheckpointFormat.encode(sample(1));

        for (long payload : new long[] {Long.MAX_VALUE, 1L << 40, Integer.MAX_VALUE, good.length}) {
            Files.write(file, ByteBuffer.wrap(good.clone()).putLong(12, payload).array());
            assertThatThrownBy(() -> CheckpointStore.read(file)).as("payload %d", payload)
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("truncated: the header declares " + payload + " payload bytes");
        }
        Files.write(file, ByteBuffer.wrap(good.clone()).putLong(12, -1).array());
        assertThatThrownBy(() -> CheckpointStore.read(file)).hasMessageContaining("corrupt header: payload length -1");

        // sizes inside the payload, with a valid checksum: only the bounds checks can stop these
        int sectionCount = CheckpointFormat.HEADER_BYTES + 8;
        int firstDataLength = sectionCount + 4 + 2 + Checkpoint.PARAMETERS.length();
        for (int[] edit : new int[][] {
                {sectionCount, Integer.MAX_VALUE}, {sectionCount, -1}, {sectionCount, 5},
                {firstDataLength, Integer.MAX_VALUE}, {firstDataLength, -7}, {firstDataLength, 1 << 30}}) {
            byte[] bad = ByteBuffer.wrap(good.clone()).putInt(edit[0], edit[1]).array();
            Files.write(file, withChecksum(bad));
            assertThatThrownBy(() -> CheckpointStore.read(file)).as("int %d at %d", edit[1], edit[0])
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("corrupt");
        }
        byte[] longName = ByteBuffer.wrap(good.clone()).putShort(sectionCount + 4, (short) 0xFFFF).array();
        Files.write(file, withChecksum(longName));
        assertThatThrownBy(() -> CheckpointStore.read(file))
                .hasMessageContaining("section 0 declares a name of 65535 bytes that runs past the end");
    }

    @Test
    void sectionsAreCopiedAndValidated() {
        byte[] data = {1, 2, 3};
        Checkpoint c = Checkpoint.builder(0).section("a", data).build();
        data[0] = 9;
        c.section("a")[1] = 9;
        assertThat(c.section("a")).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> c.section("b")).hasMessageContaining("has no section 'b'; it has [a]");
        assertThatThrownBy(() -> Checkpoint.builder(-1)).hasMessageContaining("step must be >= 0, got -1");
        assertThatThrownBy(() -> Checkpoint.builder(0).section("a", data).section("a", data))
                .hasMessageContaining("section 'a' is added twice");
        assertThatThrownBy(() -> Checkpoint.builder(0).section("", data)).hasMessageContaining("must not be empty");
        assertThatThrownBy(() -> CheckpointStore.in(dir, 0)).hasMessageContaining("keep must be >= 1, got 0");
    }

    @Test
    void aCheckpointWithNoSectionsRoundTrips() throws IOException {
        Path file = CheckpointStore.in(dir).save(Checkpoint.builder(0).build());
        assertThat(CheckpointStore.read(file).sectionNames()).isEmpty();
        assertThat(Files.size(file)).isEqualTo(CheckpointFormat.HEADER_BYTES + CheckpointFormat.MIN_PAYLOAD
                + CheckpointFormat.CHECKSUM_BYTES);
        assertThat(List.of(dir.toFile().list())).containsExactly("checkpoint-00000000.gcp");
    }

    private static byte[] withChecksum(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
        return bytes;
    }
}
