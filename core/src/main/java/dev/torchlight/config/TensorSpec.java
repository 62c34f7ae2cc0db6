package dev.torchlight.config;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import java.util.Arrays;
import java.util.Objects;

/**
 * A declared model input or output.
 *
 * @param name tensor name
 * @param dataType element type
 * @param shape dimensions without the batch dimension; -1 marks a variable dimension
 */
public record TensorSpec(String name, DataType dataType, long[] shape) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dataType, "dataType");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Whether {@code dims} (without batch dimension) fits this spec, -1 matching any size. */
    public boolean accepts(long[] dims, int from) {
        if (dims.length - from != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != -1 && shape[i] != dims[from + i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t
                && name.equals(t.name)
                && dataType == t.dataType
                && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dataType, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dataType + " " + Shapes.format(shape);
    }
}
