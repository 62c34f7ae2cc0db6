package dev.torchlight.bench.load;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes generated tensors as the JSON request bodies of the HTTP protocols. */
final class JsonTensors {
    private JsonTensors() {}

    /** An Open Inference Protocol v2 inference request: {@code {"inputs":[...]}}, data flat. */
    static byte[] v2Request(List<InputTensor> inputs) {
        StringBuilder json = new StringBuilder(1024).append("{\"inputs\":[");
        for (int i = 0; i < inputs.size(); i++) {
            InputTensor t = inputs.get(i);
            if (i > 0) {
                json.append(',');
            }
            json.append("{\"name\":\"").append(JsonStringEncoder.getInstance().quoteAsString(t.name()))
                    .append("\",\"datatype\":\"").append(t.datatype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int d = 0; d < shape.length; d++) {
                json.append(d > 0 ? "," : "").append(shape[d]);
            }
            json.append("],\"data\":[");
            ByteBuffer data = t.data();
            for (long e = 0, n = t.elementCount(); e < n; e++) {
                if (e > 0) {
                    json.append(',');
                }
                element(json, t.datatype(), data);
            }
            json.append("]}");
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The JSON header of a v2 binary-extension request: every input with
     * {@code parameters.binary_data_size} and no data, and every output asked for as binary.
     */
    static byte[] v2BinaryHeader(List<InputTensor> inputs) {
        StringBuilder json = new StringBuilder(256).append("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[");
        for (int i = 0; i < inputs.size(); i++) {
            InputTensor t = inputs.get(i);
            json.append(i > 0 ? "," : "").append("{\"name\":\"")
                    .append(JsonStringEncoder.getInstance().quoteAsString(t.name()))
                    .append("\",\"datatype\":\"").append(t.datatype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int d = 0; d < shape.length; d++) {
                json.append(d > 0 ? "," : "").append(shape[d]);
            }
            json.append("],\"parameters\":{\"binary_data_size\":").append(t.data().remaining()).append("}}");
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A TorchServe body: the tensor's elements nested to its shape (a bare number for rank 0). */
    static byte[] nested(InputTensor t) {
        StringBuilder json = new StringBuilder(1024);
        nest(json, t.datatype(), t.data(), t.shape(), 0);
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void nest(StringBuilder json, Datatype type, ByteBuffer data, long[] shape, int dim) {
        if (dim == shape.length) {
            element(json, type, data);
            return;
        }
        json.append('[');
        for (long i = 0; i < shape[dim]; i++) {
            if (i > 0) {
                json.append(',');
            }
            nest(json, type, data, shape, dim + 1);
        }
        json.append(']');
    }

    /** Reads one element at the buffer's position and appends it as JSON. */
    static void element(StringBuilder json, Datatype type, ByteBuffer data) {
        switch (type) {
            case BOOL -> json.append(data.get() != 0);
            case UINT8 -> json.append(data.get() & 0xFF);
            case INT8 -> json.append(data.get());
            case INT16 -> json.append(data.getShort());
            case INT32 -> json.append(data.getInt());
            case INT64 -> json.append(data.getLong());
            case FP16 -> json.append(Float.float16ToFloat(data.getShort()));
            case BF16 -> json.append(Float.intBitsToFloat(data.getShort() << 16));
            case FP32 -> json.append(data.getFloat());
            case FP64 -> json.append(data.getDouble());
        }
    }
}
