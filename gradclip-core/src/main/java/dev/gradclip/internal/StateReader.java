package dev.gradclip.internal;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Reads a state written by {@link StateWriter}, checking its header and its length, and turning
 * every defect (wrong kind, wrong version, truncation, trailing bytes, a negative or oversized
 * length) into an {@link IllegalArgumentException} that says what was expected. A length is never
 * trusted beyond the bytes actually present, so a corrupt state cannot cause a huge allocation.
 * Not public API.
 */
public final class StateReader {

    private final ByteBuffer in;
    private final String kind;
    private final int version;

    /**
     * Opens a state and checks its header.
     *
     * @param state   the saved bytes
     * @param kind    the kind expected
     * @param version the layout version expected
     * @throws IllegalArgumentException if the header does not match
     */
    public StateReader(byte[] state, String kind, int version) {
        this(state, kind, version, version);
    }

    /**
     * Opens a state written in any layout version from {@code oldest} to {@code newest}, for a kind
     * whose layout changed; {@link #version()} tells the caller which one to read.
     *
     * @param state  the saved bytes
     * @param kind   the kind expected
     * @param oldest the oldest layout version still read
     * @param newest the current layout version
     * @throws IllegalArgumentException if the header does not match
     */
    public StateReader(byte[] state, String kind, int oldest, int newest) {
        Objects.requireNonNull(state, "state");
        this.in = ByteBuffer.wrap(state);
        this.kind = kind;
        try {
            if (state.length < 4 || in.getInt() != StateWriter.MAGIC) {
                throw new IllegalArgumentException("state is not a gradclip state (" + state.length
                        + " bytes, bad header); expected the bytes returned by saveState() of a " + kind);
            }
            int len = Short.toUnsignedInt(in.getShort());
            if (len > in.remaining()) {
                throw truncated();
            }
            byte[] name = new byte[len];
            in.get(name);
            String found = new String(name, StandardCharsets.UTF_8);
            if (!found.equals(kind)) {
                throw new IllegalArgumentException("state was saved by a " + found + ", cannot restore it into a "
                        + kind);
            }
            int v = in.getInt();
            if (v < oldest || v > newest) {
                throw new IllegalArgumentException(kind + " state has layout version " + v + ", expected "
                        + (oldest == newest ? String.valueOf(newest) : oldest + " to " + newest));
            }
            this.version = v;
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    /**
     * Opens a state of a layout with a header of its own, a 4-byte magic then an int version, as
     * gradclip-djl's training state has had since before the common header; everything after the
     * header reads as in any other state.
     *
     * @param state   the saved bytes
     * @param magic   the first four bytes expected
     * @param kind    what the state is, for messages
     * @param version the layout version expected
     * @return a reader positioned after the header
     * @throws IllegalArgumentException if the header does not match or the state is shorter than it
     */
    public static StateReader withOwnHeader(byte[] state, int magic, String kind, int version) {
        return new StateReader(state, magic, kind, version);
    }

    private StateReader(byte[] state, int magic, String kind, int version) {
        Objects.requireNonNull(state, "state");
        this.in = ByteBuffer.wrap(state);
        this.kind = kind;
        this.version = version;
        if (state.length < 2 * Integer.BYTES) {
            throw truncated();
        }
        if (in.getInt() != magic || in.getInt() != version) {
            throw new IllegalArgumentException("not a " + kind + " state of layout version " + version + " ("
                    + state.length + " bytes)");
        }
    }

    /** @return the layout version the state was written in */
    public int version() {
        return version;
    }

    private IllegalArgumentException truncated() {
        return new IllegalArgumentException(kind + " state is truncated or corrupt");
    }

    /** @return the next int */
    public int readInt() {
        try {
            return in.getInt();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    /** @return the next byte, as a signed value */
    public int readByte() {
        try {
            return in.get();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    /** @return the next long */
    public long readLong() {
        try {
            return in.getLong();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    /** @return the next boolean */
    public boolean readBoolean() {
        int v = readInt();
        if (v != 0 && v != 1) {
            throw truncated();
        }
        return v == 1;
    }

    /** @return the next double, from its raw bits */
    public double readDouble() {
        return Double.longBitsToDouble(readLong());
    }

    /** @return the next double array, or {@code null} if one was written as null */
    public double[] readDoubles() {
        int n = readLength(Double.BYTES);
        if (n < 0) {
            return null;
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = readDouble();
        }
        return v;
    }

    /** @return the next float array, or {@code null} if one was written as null */
    public float[] readFloats() {
        int n = readLength(Float.BYTES);
        if (n < 0) {
            return null;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = Float.intBitsToFloat(readInt());
        }
        return v;
    }

    /** @return the next nested state */
    public byte[] readBytes() {
        int n = readLength(1);
        if (n < 0) {
            throw truncated();
        }
        byte[] v = new byte[n];
        in.get(v);
        return v;
    }

    /**
     * Reads a count of items written after it, or -1 for none.
     *
     * @param bytesPerItem the fewest bytes each item takes, so that a corrupt count larger than the
     *                     bytes left is rejected before anything is allocated
     * @return the count, or -1
     */
    public int readCount(int bytesPerItem) {
        return readLength(bytesPerItem);
    }

    private int readLength(int elementBytes) {
        int n = readInt();
        if (n < -1 || (n > 0 && (long) n * elementBytes > in.remaining())) {
            throw truncated();
        }
        return n;
    }

    /**
     * Checks that the whole state was read.
     *
     * @throws IllegalArgumentException if bytes are left over
     */
    public void finish() {
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(kind + " state has " + in.remaining()
                    + " unexpected trailing bytes; it was saved by a differently configured " + kind);
        }
    }
}
