package dev.gradclip.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The checkpoint file layout (big-endian), version 1:
 *
 * <pre>
 * offset  size  field
 * 0       8     magic 0x89 'G' 'C' 'L' 'I' 'P' '\r' '\n' (PNG-style: catches text-mode copies)
 * 8       4     format version (1)
 * 12      8     payload length L (bytes from offset 20 up to the checksum)
 * 20      L     payload: step (8), section count (4), then per section:
 *               name length (2, unsigned), UTF-8 name, data length (4), data
 * 20+L    4     CRC32C of bytes [0, 20+L)
 * </pre>
 *
 * <p>Every declared size is checked against the bytes actually present before anything is
 * allocated, so a hostile header cannot cause a large allocation: the largest buffer ever made is
 * the file's real size, and a file larger than half the heap is refused with a message.
 */
final class CheckpointFormat {

    static final byte[] MAGIC = {(byte) 0x89, 'G', 'C', 'L', 'I', 'P', '\r', '\n'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 20;
    static final int CHECKSUM_BYTES = 4;
    /** Step and section count. */
    static final int MIN_PAYLOAD = 12;
    /** Name length, a one-byte name, data length. */
    private static final int MIN_SECTION = 2 + 1 + 4;
    /** The largest file a Java array can hold, less the headroom some VMs reserve. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8L;

    private CheckpointFormat() {
    }

    static byte[] encode(Checkpoint c) {
        long payload = MIN_PAYLOAD;
        for (String name : c.sectionNames()) {
            payload += 2 + name.getBytes(StandardCharsets.UTF_8).length + 4 + c.section(name).length;
        }
        long total = HEADER_BYTES + payload + CHECKSUM_BYTES;
        if (total > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("checkpoint of step " + c.step() + " would be " + total
                    + " bytes; at most " + MAX_FILE_BYTES + " are supported");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        out.put(MAGIC).putInt(VERSION).putLong(payload);
        out.putLong(c.step()).putInt(c.sectionNames().size());
        for (String name : c.sectionNames()) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] data = c.section(name);
            out.putShort((short) n.length).put(n).putInt(data.length).put(data);
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /**
     * Reads and checks a checkpoint file.
     *
     * @param file the file
     * @return the checkpoint
     * @throws CheckpointException if the file is missing, empty, truncated, of another format or
     *                             version, fails its checksum, or is inconsistent
     * @throws IOException         if it cannot be read
     */
    static Checkpoint read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new CheckpointException(file, "the file is empty (0 bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(size, HEADER_BYTES));
            readFully(ch, header, file);
            header.flip();
            byte[] magic = new byte[Math.min(MAGIC.length, header.remaining())];
            header.get(magic);
            if (!prefixMatches(magic)) {
                throw new CheckpointException(file, "not a gradclip checkpoint (wrong magic bytes "
                        + hex(magic) + ", expected " + hex(MAGIC) + ")");
            }
            if (size < HEADER_BYTES + MIN_PAYLOAD + CHECKSUM_BYTES) {
                throw new CheckpointException(file, "truncated: " + size + " bytes, fewer than the "
                        + (HEADER_BYTES + MIN_PAYLOAD + CHECKSUM_BYTES) + " of the smallest checkpoint");
            }
            int version = header.getInt();
            if (version != VERSION) {
                throw new CheckpointException(file, "format version " + version + ", this gradclip reads version "
                        + VERSION);
            }
            long payload = header.getLong();
            long expected = size - HEADER_BYTES - CHECKSUM_BYTES;
            if (payload < MIN_PAYLOAD) {
                throw new CheckpointException(file, "corrupt header: payload length " + payload);
            }
            if (payload > expected) {
                throw new CheckpointException(file, "truncated: the header declares " + payload
                        + " payload bytes but the file holds only " + expected);
            }
            if (payload < expected) {
                throw new CheckpointException(file, "corrupt: " + (expected - payload)
                        + " unexpected bytes after the declared end");
            }
            if (size > MAX_FILE_BYTES) {
                throw new CheckpointException(file, "too large: " + size + " bytes; at most " + MAX_FILE_BYTES
                        + " are supported");
            }
            long heap = Runtime.getRuntime().maxMemory();
            if (heap != Long.MAX_VALUE && size > heap / 2) {
                throw new CheckpointException(file, "too large for this heap: " + size + " bytes with -Xmx of "
                        + heap + " bytes; run with a larger -Xmx");
            }
            ByteBuffer all = ByteBuffer.allocate((int) size);
            ch.position(0);
            readFully(ch, all, file);
            return decode(file, all.array());
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "the file does not exist");
        }
    }

    private static Checkpoint decode(Path file, byte[] bytes) throws CheckpointException {
        int end = bytes.length - CHECKSUM_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, end);
        int stored = ByteBuffer.wrap(bytes, end, CHECKSUM_BYTES).getInt();
        if (stored != (int) crc.getValue()) {
            throw new CheckpointException(file, String.format("checksum mismatch (stored CRC32C %08x, computed"
                    + " %08x): the file was corrupted after it was written", stored, (int) crc.getValue()));
        }
        // the checksum matches, yet the sizes are checked again: a file can be hostile by design
        ByteBuffer in = ByteBuffer.wrap(bytes, HEADER_BYTES, end - HEADER_BYTES);
        long step = in.getLong();
        if (step < 0) {
            throw new CheckpointException(file, "corrupt: negative step " + step);
        }
        int count = in.getInt();
        if (count < 0 || (long) count * MIN_SECTION > in.remaining()) {
            throw new CheckpointException(file, "corrupt: " + count + " sections declared in "
                    + in.remaining() + " bytes");
        }
        Checkpoint.Builder b = Checkpoint.builder(step);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 2) {
                throw sectionOverrun(file, i, "name length");
            }
            int nameLength = Short.toUnsignedInt(in.getShort());
            if (nameLength == 0) {
                throw new CheckpointException(file, "corrupt: section " + i + " has an empty name");
            }
            if (nameLength > in.remaining()) {
                throw sectionOverrun(file, i, "name of " + nameLength + " bytes");
            }
            String name;
            try {
                name = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(in.slice(in.position(), nameLength)).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointException(file, "corrupt: section " + i + " has a name that is not UTF-8");
            }
            in.position(in.position() + nameLength);
            if (in.remaining() < 4) {
                throw sectionOverrun(file, i, "data length");
            }
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw sectionOverrun(file, i, "data of " + length + " bytes");
            }
            if (!seen.add(name)) {
                throw new CheckpointException(file, "corrupt: section '" + name + "' appears twice");
            }
            byte[] data = new byte[length];
            in.get(data);
            b.sectionNoCopy(name, data);
        }
        if (in.hasRemaining()) {
            throw new CheckpointException(file, "corrupt: " + in.remaining() + " bytes after the last section");
        }
        return b.build();
    }

    private static CheckpointException sectionOverrun(Path file, int section, String what) {
        return new CheckpointException(file, "corrupt: section " + section + " declares a " + what
                + " that runs past the end of the payload");
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, Path file) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new CheckpointException(file, "truncated while being read (it shrank to "
                        + buf.position() + " bytes)");
            }
        }
    }

    /** Whether the bytes present agree with the magic; a file shorter than it may still start right. */
    private static boolean prefixMatches(byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (magic[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.length() == 0 ? "(none)" : sb.toString();
    }
}
