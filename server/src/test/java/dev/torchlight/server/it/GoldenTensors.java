package dev.torchlight.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Golden JSON tensors as the little-endian bytes the binary protocols carry, and back. */
final class GoldenTensors {
    private GoldenTensors() {}

    static int byteSize(String datatype) {
        return switch (datatype) {
            case "BOOL", "UINT8", "INT8" -> 1;
            case "INT16", "FP16", "BF16" -> 2;
            case "INT32", "FP32" -> 4;
            case "INT64", "FP64" -> 8;
            default -> throw new IllegalArgumentException(datatype);
        };
    }

    /** The tensor's {@code data} as raw little-endian elements. */
    static byte[] bytes(JsonNode tensor) {
        String type = tensor.get("datatype").asText();
        JsonNode data = tensor.get("data");
        ByteBuffer out = ByteBuffer.allocate(data.size() * byteSize(type)).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode v : data) {
            switch (type) {
                case "BOOL" -> out.put((byte) (v.asBoolean() ? 1 : 0));
                case "UINT8", "INT8" -> out.put((byte) v.asInt());
                case "INT16" -> out.putShort((short) v.asInt());
                case "INT32" -> out.putInt(v.asInt());
                case "INT64" -> out.putLong(v.asLong());
                case "FP16" -> out.putShort(Float.floatToFloat16((float) v.asDouble()));
                case "BF16" -> out.putShort((short) (Float.floatToRawIntBits((float) v.asDouble()) >>> 16));
                case "FP32" -> out.putFloat((float) v.asDouble());
                case "FP64" -> out.putDouble(v.asDouble());
                default -> throw new IllegalArgumentException(type);
            }
        }
        return out.array();
    }

    /** Raw little-endian elements as JSON values, as the golden files write them. */
    static ArrayNode values(String type, ByteBuffer raw) {
        ByteBuffer data = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ArrayNode out = TestData.JSON.createArrayNode();
        while (data.hasRemaining()) {
            switch (type) {
                case "BOOL" -> out.add(data.get() != 0);
                case "UINT8" -> out.add(Byte.toUnsignedInt(data.get()));
                case "INT8" -> out.add((int) data.get());
                case "INT16" -> out.add((int) data.getShort());
                case "INT32" -> out.add(data.getInt());
                case "INT64" -> out.add(data.getLong());
                case "FP16" -> out.add(Float.float16ToFloat(data.getShort()));
                case "BF16" -> out.add(Float.intBitsToFloat(data.getShort() << 16));
                case "FP32" -> out.add(data.getFloat());
                case "FP64" -> out.add(data.getDouble());
                default -> throw new IllegalArgumentException(type);
            }
        }
        // Re-read, so that numbers get the node types the golden files parse to (IntNode for small INT64).
        try {
            return (ArrayNode) TestData.JSON.readTree(out.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
