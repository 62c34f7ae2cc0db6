package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes tensor elements as JSON straight from the tensor's little-endian buffer. BOOL is written
 * as {@code true}/{@code false}; FP16 and BF16 as the (exact) float they stand for, in the
 * shortest form that reads back to the same float; non-finite floats as the strings
 * {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 */
public final class JsonTensorWriter {
    private JsonTensorWriter() {}

    /** All elements as one flat array, row-major. */
    public static void writeFlat(JsonGenerator g, Tensor tensor) throws IOException {
        ByteBuffer data = tensor.data();
        DataType type = tensor.dataType();
        long count = tensor.elementCount();
        g.writeStartArray();
        for (long i = 0; i < count; i++) {
            writeElement(g, data, type);
        }
        g.writeEndArray();
    }

    /**
     * The elements nested as the shape from dimension {@code fromDim} on (a bare element when no
     * dimensions remain). Dimensions before {@code fromDim} are dropped, so their product must be 1.
     */
    public static void writeNested(JsonGenerator g, Tensor tensor, int fromDim) throws IOException {
        long[] shape = tensor.shape();
        for (int i = 0; i < fromDim; i++) {
            if (shape[i] != 1) {
                throw new IllegalArgumentException("cannot drop dimension " + i + " of " + tensor + ": size is not 1");
            }
        }
        writeLevel(g, tensor.data(), tensor.dataType(), shape, fromDim);
    }

    private static void writeLevel(JsonGenerator g, ByteBuffer data, DataType type, long[] shape, int dim)
            throws IOException {
        if (dim == shape.length) {
            writeElement(g, data, type);
            return;
        }
        g.writeStartArray();
        for (long i = 0; i < shape[dim]; i++) {
            writeLevel(g, data, type, shape, dim + 1);
        }
        g.writeEndArray();
    }

    /** Writes the element at {@code data}'s position and advances past it. */
    private static void writeElement(JsonGenerator g, ByteBuffer data, DataType type) throws IOException {
        switch (type) {
            case BOOL -> g.writeBoolean(data.get() != 0);
            case UINT8 -> g.writeNumber(data.get() & 0xFF);
            case INT8 -> g.writeNumber((int) data.get());
            case INT16 -> g.writeNumber((int) data.getShort());
            case INT32 -> g.writeNumber(data.getInt());
            case INT64 -> g.writeNumber(data.getLong());
            case FP16 -> g.writeNumber(Float.float16ToFloat(data.getShort()));
            case BF16 -> g.writeNumber(HalfFloats.fromBFloat16(data.getShort()));
            case FP32 -> g.writeNumber(data.getFloat());
            case FP64 -> g.writeNumber(data.getDouble());
        }
    }
}
