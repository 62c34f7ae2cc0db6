package dev.torchlight.config;

import dev.torchlight.api.DataType;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One warm-up request from a model's {@code config.yaml}: a tensor for each declared input, read
 * from a file of raw little-endian elements next to the config.
 *
 * @param inputs one per declared input, in declared order
 */
public record WarmupSample(List<Input> inputs) {
    public WarmupSample {
        inputs = List.copyOf(inputs);
    }

    /**
     * @param name the declared input
     * @param dataType its declared datatype
     * @param shape the full shape, batch dimension included for a batched model
     * @param file raw little-endian elements, exactly {@code product(shape) * dataType.byteSize()} bytes
     */
    public record Input(String name, DataType dataType, long[] shape, Path file) {
        public Input {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dataType, "dataType");
            Objects.requireNonNull(file, "file");
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }
}
