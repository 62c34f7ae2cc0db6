package dev.torchlight.server.http.v2;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import java.nio.ByteBuffer;

/**
 * The binary part of a v2 request (the bytes after the JSON header), handed out to the inputs
 * that name a {@code binary_data_size}, in order, as slices of the body: no copy, no decoding.
 * Every size is checked against what is left and against the input's shape, and all of the
 * binary part must be used.
 */
final class BinaryInputs {
    private final byte[] body;
    private final int start;
    private int position;

    /** @param start where the binary part begins: the JSON header's length */
    BinaryInputs(byte[] body, int start) {
        this.body = body;
        this.start = start;
        this.position = start;
    }

    /** The next {@code size} bytes as input {@code name}'s data. */
    Tensor next(String name, DataType type, long[] shape, Object size) {
        String label = "input '" + name + "'";
        if (!(size instanceof Integer || size instanceof Long) || ((Number) size).longValue() < 0) {
            throw V2RequestReader.invalid(label + ": 'parameters." + V2RequestReader.BINARY_DATA_SIZE
                    + "' must be a non-negative integer number of bytes, got " + size);
        }
        long bytes = ((Number) size).longValue();
        long needed;
        try {
            needed = Math.multiplyExact(Shapes.elementCount(shape), (long) type.byteSize());
        } catch (ArithmeticException e) {
            throw V2RequestReader.invalid(label + " with shape " + Shapes.format(shape) + " is too large");
        }
        if (bytes != needed) {
            throw V2RequestReader.invalid(label + " with shape " + Shapes.format(shape) + " and datatype " + type
                    + " needs " + needed + " bytes, but its " + V2RequestReader.BINARY_DATA_SIZE + " is " + bytes);
        }
        int left = body.length - position;
        if (bytes > left) {
            throw V2RequestReader.invalid(label + " has " + V2RequestReader.BINARY_DATA_SIZE + " " + bytes
                    + ", but only " + left + " bytes of binary data are left after the JSON header"
                    + (position > start ? " and the inputs before it" : ""));
        }
        ByteBuffer data = ByteBuffer.wrap(body, position, (int) bytes);
        position += (int) bytes;
        return new Tensor(name, type, shape, data);
    }

    /** Refuses binary bytes that no input claimed. */
    void checkAllUsed() {
        if (position != body.length) {
            int total = body.length - start;
            throw V2RequestReader.invalid("the body has " + total + " bytes of binary data after the JSON header,"
                    + " but the inputs' " + V2RequestReader.BINARY_DATA_SIZE + " add up to " + (position - start));
        }
    }
}
