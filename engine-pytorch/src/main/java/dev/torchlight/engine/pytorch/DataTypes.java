package dev.torchlight.engine.pytorch;

import dev.torchlight.api.DataType;

/**
 * Maps torchlight datatypes to DJL's. DJL 0.36's native layer only knows the eight types below:
 * asking it to create an INT16 or BF16 tensor aborts the whole process (a C++ {@code throw;} with
 * no active exception), and it reports such outputs as UNKNOWN, so both are refused up front.
 */
final class DataTypes {
    private DataTypes() {}

    /** The DJL type for {@code type}, or {@code null} when DJL cannot carry it. */
    static ai.djl.ndarray.types.DataType toDjl(DataType type) {
        return switch (type) {
            case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
            case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
            case INT8 -> ai.djl.ndarray.types.DataType.INT8;
            case INT32 -> ai.djl.ndarray.types.DataType.INT32;
            case INT64 -> ai.djl.ndarray.types.DataType.INT64;
            case FP16 -> ai.djl.ndarray.types.DataType.FLOAT16;
            case FP32 -> ai.djl.ndarray.types.DataType.FLOAT32;
            case FP64 -> ai.djl.ndarray.types.DataType.FLOAT64;
            case INT16, BF16 -> null;
        };
    }

    /** The torchlight name of a DJL type, for messages; DJL's own name when there is none. */
    static String describe(ai.djl.ndarray.types.DataType djl) {
        for (DataType type : DataType.values()) {
            if (toDjl(type) == djl) {
                return type.name();
            }
        }
        return djl == ai.djl.ndarray.types.DataType.UNKNOWN
                ? "a datatype DJL cannot represent (e.g. INT16 or BF16)"
                : djl.name();
    }

    /** The datatypes this engine runs, for messages. */
    static String supported() {
        StringBuilder names = new StringBuilder();
        for (DataType type : DataType.values()) {
            if (toDjl(type) != null) {
                names.append(names.isEmpty() ? "" : ", ").append(type.name());
            }
        }
        return names.toString();
    }
}
