package dev.torchlight.server.http.json;

import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A growable little-endian byte buffer that tensor elements are written into as they are parsed. */
final class ElementBuffer {
    private static final int MAX_BYTES = Integer.MAX_VALUE - 16;

    private ByteBuffer buffer;

    ElementBuffer(long initialBytes) {
        buffer = ByteBuffer.allocate((int) Math.max(16, Math.min(initialBytes, MAX_BYTES)))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    void putByte(byte v) {
        room(1).put(v);
    }

    void putShort(short v) {
        room(2).putShort(v);
    }

    void putInt(int v) {
        room(4).putInt(v);
    }

    void putLong(long v) {
        room(8).putLong(v);
    }

    /** An integer element of {@code type}, in range, in the type's width. */
    void putInteger(DataType type, long v) {
        switch (type.byteSize()) {
            case 1 -> putByte((byte) v);
            case 2 -> putShort((short) v);
            case 4 -> putInt((int) v);
            default -> putLong(v);
        }
    }

    /** An FP64, FP16 or BF16 element from its double value (FP16 and BF16 rounded to nearest-even). */
    void putFromDouble(DataType type, double v) {
        switch (type) {
            case FP64 -> putDouble(v);
            case FP16 -> putShort(HalfFloats.toFloat16(v));
            case BF16 -> putShort(HalfFloats.toBFloat16(v));
            default -> throw new IllegalArgumentException(type + " is not stored from a double");
        }
    }

    void putFloat(float v) {
        room(4).putFloat(v);
    }

    void putDouble(double v) {
        room(8).putDouble(v);
    }

    /** Bytes written so far: a mark for {@link #reset}. */
    int position() {
        return buffer.position();
    }

    /** Drops what was written after {@code mark}, a {@link #position()}. */
    void reset(int mark) {
        buffer.position(mark);
    }

    /** The bytes written, positioned at 0. */
    ByteBuffer finish() {
        return buffer.flip();
    }

    private ByteBuffer room(int bytes) {
        if (buffer.remaining() < bytes) {
            long wanted = Math.max((long) buffer.capacity() * 2, (long) buffer.position() + bytes);
            if ((long) buffer.position() + bytes > MAX_BYTES) {
                throw new ServingException.ResourceExhausted("tensor data exceeds " + MAX_BYTES + " bytes");
            }
            ByteBuffer grown = ByteBuffer.allocate((int) Math.min(wanted, MAX_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            buffer.flip();
            grown.put(buffer);
            buffer = grown;
        }
        return buffer;
    }
}
