package dev.gradclip.lab.fashion;

import dev.gradclip.lab.DatasetException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads an IDX file (the MNIST format: a big-endian header with a magic number whose last byte is
 * the number of dimensions, then the sizes, then unsigned bytes), plain or gzip-compressed.
 *
 * <p>Hostile input is refused with a clear {@link DatasetException}, never an
 * {@link OutOfMemoryError}: the magic, the number and size of the dimensions are checked, the
 * declared total is capped at {@value #MAX_ELEMENTS} bytes, and the data is read in chunks, so a
 * header that declares more than the file holds is reported as truncated before any large buffer
 * is allocated.
 *
 * @param dims the sizes of the dimensions
 * @param data the elements, unsigned bytes in row-major order
 */
public record IdxFile(int[] dims, byte[] data) {

    /** The magic of an unsigned-byte IDX file with 3 dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** The magic of an unsigned-byte IDX file with 1 dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;
    /** The largest total size accepted: far above Fashion-MNIST's 47 MB, far below a heap. */
    public static final long MAX_ELEMENTS = 256L << 20;

    private static final int CHUNK = 1 << 20;

    /**
     * @param file          the file (a name ending in {@code .gz} is decompressed)
     * @param expectedMagic {@link #IMAGES_MAGIC} or {@link #LABELS_MAGIC}
     * @return the file's content
     * @throws DatasetException if the file is missing, unreadable, not IDX of that kind, too large or
     *                        truncated
     */
    public static IdxFile read(Path file, int expectedMagic) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
                DataInputStream in = new DataInputStream(file.toString().endsWith(".gz")
                        ? new GZIPInputStream(raw) : raw)) {
            int magic = in.readInt();
            if (magic != expectedMagic) {
                throw new DatasetException(file + " is not an IDX file of unsigned bytes with "
                        + (expectedMagic & 0xff) + " dimension(s): magic is 0x" + Integer.toHexString(magic)
                        + ", expected 0x" + Integer.toHexString(expectedMagic));
            }
            int n = expectedMagic & 0xff;
            int[] dims = new int[n];
            long total = 1;
            for (int d = 0; d < n; d++) {
                dims[d] = in.readInt();
                if (dims[d] <= 0) {
                    throw new DatasetException(file + ": dimension " + d + " has size " + dims[d]
                            + " in the IDX header; sizes must be positive");
                }
                total *= dims[d];
                if (total > MAX_ELEMENTS) {
                    throw new DatasetException(file + ": the IDX header declares more than " + MAX_ELEMENTS
                            + " bytes of data; refusing it as corrupt or hostile");
                }
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(total, CHUNK));
            byte[] buf = new byte[CHUNK];
            long left = total;
            while (left > 0) {
                int want = (int) Math.min(buf.length, left);
                int got = in.readNBytes(buf, 0, want);
                if (got < want) {
                    throw new DatasetException(file + " is truncated: its IDX header declares " + total
                            + " bytes of data but the file holds " + (total - left + got));
                }
                out.write(buf, 0, got);
                left -= got;
            }
            return new IdxFile(dims, out.toByteArray());
        } catch (EOFException e) {
            throw new DatasetException(file + " is truncated: it ends inside the IDX header");
        } catch (java.nio.file.NoSuchFileException e) {
            throw new DatasetException(file + " does not exist");
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
