package dev.torchlight.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor: datatype, shape and little-endian element bytes. The buffer is never a boxed
 * array; it may be a slice of a network buffer or of an engine output.
 */
public final class Tensor {
    private final String name;
    private final DataType dataType;
    private final long[] shape;
    private final ByteBuffer data;

    /**
     * @param data exactly {@code elementCount(shape) * dataType.byteSize()} bytes between its
     *     position and limit; it is viewed, not copied
     */
    public Tensor(String name, DataType dataType, long[] shape, ByteBuffer data) {
        this.name = Objects.requireNonNull(name, "name");
        this.dataType = Objects.requireNonNull(dataType, "dataType");
        this.shape = shape.clone();
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        long expected;
        try {
            expected = Math.multiplyExact(Shapes.elementCount(this.shape), dataType.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "' with shape " + Shapes.format(this.shape)
                    + " and datatype " + dataType + " is too large");
        }
        if (this.data.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' with shape "
                    + Shapes.format(this.shape) + " and datatype " + dataType + " needs " + expected
                    + " bytes, got " + this.data.remaining());
        }
    }

    public String name() {
        return name;
    }

    public DataType dataType() {
        return dataType;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** A read-only little-endian view of the elements, positioned at 0. */
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The same data under another name. */
    public Tensor withName(String newName) {
        return new Tensor(newName, dataType, shape, data);
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dataType + ", " + Arrays.toString(shape) + "]";
    }
}
