package dev.torchlight.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Tensor element types, named as in the Open Inference Protocol v2. Elements are stored
 * little-endian; FP16 and BF16 travel as their raw 16-bit patterns, BOOL as one byte (0 or 1).
 */
public enum DataType {
    BOOL(1),
    UINT8(1),
    INT8(1),
    INT16(2),
    INT32(4),
    INT64(8),
    FP16(2),
    BF16(2),
    FP32(4),
    FP64(8);

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether JSON carries this type's elements as floating-point numbers. */
    public boolean isFloatingPoint() {
        return this == FP16 || this == BF16 || this == FP32 || this == FP64;
    }

    /**
     * The smallest value of an integer type.
     *
     * @throws IllegalStateException for BOOL and the floating-point types
     */
    public long minInteger() {
        return switch (this) {
            case UINT8 -> 0;
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /**
     * The largest value of an integer type.
     *
     * @throws IllegalStateException for BOOL and the floating-point types
     */
    public long maxInteger() {
        return switch (this) {
            case UINT8 -> 255;
            case INT8 -> Byte.MAX_VALUE;
            case INT16 -> Short.MAX_VALUE;
            case INT32 -> Integer.MAX_VALUE;
            case INT64 -> Long.MAX_VALUE;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** Every name accepted by {@link #parse}, for error messages. */
    public static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /**
     * Parses a v2 datatype name (case-insensitive).
     *
     * @throws IllegalArgumentException naming the value and the accepted names
     */
    public static DataType parse(String name) {
        if (name != null) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException ignored) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException(
                "unsupported datatype '" + name + "', expected one of " + names());
    }
}
