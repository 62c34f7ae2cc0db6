package dev.torchlight.bench.load;

import java.util.Locale;

/** A tensor element type as the Open Inference Protocol names it, with its size on the wire. */
enum Datatype {
    BOOL(1), UINT8(1), INT8(1), INT16(2), INT32(4), INT64(8), FP16(2), BF16(2), FP32(4), FP64(8);

    private final int byteSize;

    Datatype(int byteSize) {
        this.byteSize = byteSize;
    }

    int byteSize() {
        return byteSize;
    }

    /**
     * @throws IllegalArgumentException for a name the load generator cannot make data for
     *     (e.g. {@code BYTES})
     */
    static Datatype parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("datatype " + name + " is not supported; pass --input-file", e);
        }
    }
}
