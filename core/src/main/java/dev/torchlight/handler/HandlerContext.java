package dev.torchlight.handler;

import dev.torchlight.config.ModelConfig;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a handler learns about its model when it is created.
 *
 * @param modelDirectory the model's folder in the repository, holding config.yaml and extra files
 *     such as labels
 * @param config the model's validated config
 */
public record HandlerContext(Path modelDirectory, ModelConfig config) {
    public HandlerContext {
        Objects.requireNonNull(modelDirectory, "modelDirectory");
        Objects.requireNonNull(config, "config");
    }
}
