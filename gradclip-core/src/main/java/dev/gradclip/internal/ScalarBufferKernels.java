package dev.gradclip.internal;

import java.nio.ByteBuffer;

/**
 * The reference {@link BufferKernels}: the loops of {@link ScalarKernels}, reading and writing each
 * float with {@link ByteBuffer#getFloat(int)} and {@link ByteBuffer#putFloat(int, float)}. Not
 * public API.
 */
public final class ScalarBufferKernels implements BufferKernels {

    /** The one instance. */
    public static final ScalarBufferKernels INSTANCE = new ScalarBufferKernels();

    private ScalarBufferKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public double sumOfSquares(ByteBuffer b, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            double x0 = b.getFloat(4 * i), x1 = b.getFloat(4 * i + 4);
            double x2 = b.getFloat(4 * i + 8), x3 = b.getFloat(4 * i + 12);
            s0 += x0 * x0;
            s1 += x1 * x1;
            s2 += x2 * x2;
            s3 += x3 * x3;
        }
        for (; i < to; i++) {
            double x = b.getFloat(4 * i);
            s0 += x * x;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public double sumOfAbs(ByteBuffer b, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += Math.abs(b.getFloat(4 * i));
            s1 += Math.abs(b.getFloat(4 * i + 4));
            s2 += Math.abs(b.getFloat(4 * i + 8));
            s3 += Math.abs(b.getFloat(4 * i + 12));
        }
        for (; i < to; i++) {
            s0 += Math.abs(b.getFloat(4 * i));
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public double maxAbs(ByteBuffer b, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) {
            float x = Math.abs(b.getFloat(4 * i));
            if (!(x <= m)) { // true for NaN, so NaN sticks
                m = x;
                if (Float.isNaN(x)) {
                    return Double.NaN;
                }
            }
        }
        return m;
    }

    @Override
    public void scale(ByteBuffer b, int from, int to, float factor) {
        for (int i = from; i < to; i++) {
            b.putFloat(4 * i, b.getFloat(4 * i) * factor);
        }
    }
}
