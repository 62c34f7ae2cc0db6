package dev.torchlight.bench.load;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Generated input data: elements as little-endian bytes, row-major, the layout the binary
 * protocols send as is and the JSON ones print from.
 *
 * @param name input name
 * @param datatype element type
 * @param shape concrete dimensions
 * @param data {@code product(shape) * datatype.byteSize()} bytes, little-endian
 */
record InputTensor(String name, Datatype datatype, long[] shape, ByteBuffer data) {

    InputTensor {
        shape = shape.clone();
        data = data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A read-only view positioned at the first element. */
    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputTensor other && name.equals(other.name) && datatype == other.datatype
                && Arrays.equals(shape, other.shape) && data.equals(other.data);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + datatype + Arrays.toString(shape);
    }
}
