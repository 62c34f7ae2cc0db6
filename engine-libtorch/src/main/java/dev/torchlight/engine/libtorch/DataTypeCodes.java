package dev.torchlight.engine.libtorch;

import dev.torchlight.api.DataType;

/**
 * The ABI's element type codes ({@code TL_BOOL} .. {@code TL_FP64}), which follow {@link DataType}'s
 * declaration order; {@code DataTypeCodesTest} checks them against the header.
 */
final class DataTypeCodes {
    private static final DataType[] TYPES = DataType.values();

    private DataTypeCodes() {}

    static int code(DataType type) {
        return type.ordinal();
    }

    /** The type of a code, or null for a code this torchlight does not know. */
    static DataType type(int code) {
        return code >= 0 && code < TYPES.length ? TYPES[code] : null;
    }
}
