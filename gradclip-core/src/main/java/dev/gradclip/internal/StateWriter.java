package dev.gradclip.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes the saved state of a clipper, optimizer or training step: a header (magic, kind, version)
 * then fields in a fixed order. Doubles and floats are written as their raw bits, so NaN payloads,
 * signed zeros and every other value round-trip exactly. Read back with {@link StateReader}. Not
 * public API.
 */
public final class StateWriter {

    /** The first four bytes of every saved state: {@code "GCst"}. */
    static final int MAGIC = 0x47437374;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    /**
     * Starts a state with its header.
     *
     * @param kind    what saved it, e.g. {@code "zclip"}; checked on restore
     * @param version the layout version; checked on restore
     */
    public StateWriter(String kind, int version) {
        try {
            out.writeInt(MAGIC);
            out.writeUTF(kind);
            out.writeInt(version);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private StateWriter(int magic, int version) {
        writeInt(magic);
        writeInt(version);
    }

    /**
     * Starts a state whose layout has a header of its own: a 4-byte magic then an int version (read
     * back with {@link StateReader#withOwnHeader}).
     *
     * @param magic   the first four bytes
     * @param version the layout version
     * @return the writer
     */
    public static StateWriter withOwnHeader(int magic, int version) {
        return new StateWriter(magic, version);
    }

    /**
     * @param v the value; its low 8 bits are written
     * @return this writer
     */
    public StateWriter writeByte(int v) {
        try {
            out.writeByte(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * @param v the value
     * @return this writer
     */
    public StateWriter writeInt(int v) {
        try {
            out.writeInt(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * @param v the value
     * @return this writer
     */
    public StateWriter writeLong(long v) {
        try {
            out.writeLong(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * @param v the value
     * @return this writer
     */
    public StateWriter writeBoolean(boolean v) {
        return writeInt(v ? 1 : 0);
    }

    /**
     * @param v the value, written as {@link Double#doubleToRawLongBits(double)}
     * @return this writer
     */
    public StateWriter writeDouble(double v) {
        return writeLong(Double.doubleToRawLongBits(v));
    }

    /**
     * @param v the values, length first; {@code null} is written as length -1
     * @return this writer
     */
    public StateWriter writeDoubles(double[] v) {
        if (v == null) {
            return writeInt(-1);
        }
        writeInt(v.length);
        for (double x : v) {
            writeDouble(x);
        }
        return this;
    }

    /**
     * @param v the values, length first, each as {@link Float#floatToRawIntBits(float)}; {@code null}
     *          is written as length -1
     * @return this writer
     */
    public StateWriter writeFloats(float[] v) {
        if (v == null) {
            return writeInt(-1);
        }
        writeInt(v.length);
        for (float x : v) {
            writeInt(Float.floatToRawIntBits(x));
        }
        return this;
    }

    /**
     * @param v a nested state, length first
     * @return this writer
     */
    public StateWriter writeBytes(byte[] v) {
        writeInt(v.length);
        try {
            out.write(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** @return the state written so far */
    public byte[] toByteArray() {
        return bytes.toByteArray();
    }
}
