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
 * @param ragged (inputs only) whether requests whose lengths differ share a batch: the model takes
 *     the input as one 1-D tensor, every row's elements concatenated (its {@code allow_ragged_batch})
 * @param valueRange (integer inputs only) the values its elements may hold, both ends included; null
 *     when any value of the datatype is allowed
 */
public record TensorSpec(String name, DataType dataType, long[] shape, boolean ragged, ValueRange valueRange) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dataType, "dataType");
        shape = shape.clone();
    }

    /** A tensor that is neither ragged nor limited in its values. */
    public TensorSpec(String name, DataType dataType, long[] shape) {
        this(name, dataType, shape, false, null);
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
                && Arrays.equals(shape, t.shape)
                && ragged == t.ragged
                && Objects.equals(valueRange, t.valueRange);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dataType, Arrays.hashCode(shape), ragged, valueRange);
    }

    @Override
    public String toString() {
        return name + " " + dataType + " " + Shapes.format(shape) + (ragged ? " ragged" : "")
                + (valueRange != null ? " in " + valueRange : "");
    }
}
