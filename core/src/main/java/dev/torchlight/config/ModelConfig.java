package dev.torchlight.config;

import java.util.List;
import java.util.Objects;

/**
 * A model's {@code config.yaml}, validated.
 *
 * @param name model name; equals the model's directory name
 * @param platform always {@code torchscript} for now
 * @param maxBatchSize largest batch the model takes; 0 means the model has no batch dimension
 * @param inputs declared inputs, in the order the model's forward takes them
 * @param outputs declared outputs, in the order the model returns them
 */
public record ModelConfig(
        String name, String platform, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs) {

    public ModelConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** Whether tensors carry a leading batch dimension in front of the declared shape. */
    public boolean batched() {
        return maxBatchSize > 0;
    }
}
