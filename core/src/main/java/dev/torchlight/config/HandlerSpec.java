package dev.torchlight.config;

import java.util.Objects;

/**
 * What a model's handler is, from {@code handler:} in its {@code config.yaml}: the handler turns
 * what clients send into the model's input tensors and its outputs into the client's answer.
 */
public sealed interface HandlerSpec {
    /** {@code handler: tensor} (the default): clients send tensors and get tensors back, unchanged. */
    record Tensors() implements HandlerSpec {}

    /**
     * {@code handler: image_classifier}: clients send images and get the top classes back.
     *
     * @param image how images become the model's input
     * @param topk how many classes each answer names
     */
    record ImageClassifier(ImageOptions image, int topk) implements HandlerSpec {
        public ImageClassifier {
            Objects.requireNonNull(image, "image");
        }
    }

    /**
     * {@code handler: {class: ..., jar: ...}}: a team's own Java handler, loaded from a jar in the
     * model's directory only when the server allows custom handlers.
     *
     * @param className the handler's fully qualified class name
     * @param jar the jar's path relative to the model directory
     */
    record Custom(String className, String jar) implements HandlerSpec {
        public Custom {
            Objects.requireNonNull(className, "className");
            Objects.requireNonNull(jar, "jar");
        }
    }

    /** The default: tensors in, tensors out. */
    HandlerSpec TENSOR = new Tensors();
}
