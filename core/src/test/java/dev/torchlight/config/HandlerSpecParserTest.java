package dev.torchlight.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code handler}, {@code topk} and {@code image} in a model's config.yaml. */
class HandlerSpecParserTest {
    private static final String CLASSIFIER = """
            name: cls
            platform: torchscript
            max_batch_size: 8
            inputs:
              - {name: image, datatype: FP32, shape: [3, 224, 224]}
            outputs:
              - {name: scores, datatype: FP32, shape: [1000]}
            """;

    @TempDir
    Path tmp;

    private ModelConfig parse(String yaml) throws IOException {
        Path file = Files.createDirectories(tmp.resolve("cls")).resolve("config.yaml");
        Files.writeString(file, yaml);
        return ModelConfigParser.parse(file, "cls");
    }

    private void assertRejected(String yaml, String... fragments) {
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageContainingAll(fragments);
    }

    @Test
    void tensorIsTheDefault() throws IOException {
        assertThat(parse(CLASSIFIER).handler()).isEqualTo(HandlerSpec.TENSOR);
        assertThat(parse(CLASSIFIER + "handler: tensor\n").handler()).isEqualTo(HandlerSpec.TENSOR);
    }

    @Test
    void imageClassifierTakesImageNetDefaultsAndOverrides() throws IOException {
        HandlerSpec.ImageClassifier d = (HandlerSpec.ImageClassifier) parse(CLASSIFIER + "handler: image_classifier\n")
                .handler();
        assertThat(d.topk()).isEqualTo(5);
        assertThat(d.image()).isEqualTo(ImageOptions.imagenet());

        HandlerSpec.ImageClassifier c = (HandlerSpec.ImageClassifier) parse(CLASSIFIER.replace("224, 224", "-1, -1")
                + "handler: image_classifier\ntopk: 3\nimage: {resize: 160, crop: 128, mean: [0.5, 0.5, 0.5],"
                + " std: [0.5, 0.5, 0.5], max_pixels: 1000}\n").handler();
        assertThat(c.topk()).isEqualTo(3);
        assertThat(c.image()).isEqualTo(new ImageOptions(160, 128, List.of(0.5f, 0.5f, 0.5f),
                List.of(0.5f, 0.5f, 0.5f), 1000));
    }

    @Test
    void imageClassifierChecksTheModelAndItsKeys() {
        assertRejected(CLASSIFIER + "handler: image_classifier\nimage: {crop: 200}\n", "handler",
                "[3, 200, 200]", "image.crop is 200");
        assertRejected(CLASSIFIER.replace("max_batch_size: 8", "max_batch_size: 0")
                + "handler: image_classifier\n", "max_batch_size of at least 1");
        assertRejected(CLASSIFIER + "handler: image_classifier\nimage: {resize: 100, crop: 224}\n", "image.crop",
                "at most resize (100)");
        assertRejected(CLASSIFIER + "handler: image_classifier\nimage: {mean: [1, 2]}\n", "image.mean",
                "three numbers");
        assertRejected(CLASSIFIER + "handler: image_classifier\nimage: {std: [1, 0, 1]}\n", "image.std",
                "three positive numbers");
        assertRejected(CLASSIFIER + "handler: image_classifier\nimage: {size: 3}\n", "image.size", "unknown key");
        assertRejected(CLASSIFIER + "handler: image_classifier\ntopk: 0\n", "topk", "from 1 to 1000");
        assertRejected(CLASSIFIER + "topk: 3\n", "topk", "only applies to 'handler: image_classifier'");
        assertRejected(CLASSIFIER + "handler: resnet\n", "handler", "'tensor', 'image_classifier'");
    }

    @Test
    void customHandlersNameAClassAndAJarInsideTheModel() throws IOException {
        assertThat(parse(CLASSIFIER + "handler: {class: com.example.H, jar: lib/h.jar}\n").handler())
                .isEqualTo(new HandlerSpec.Custom("com.example.H", "lib/h.jar"));
        assertRejected(CLASSIFIER + "handler: {class: com.example.H, jar: ../h.jar}\n", "handler.jar");
        assertRejected(CLASSIFIER + "handler: {class: com.example.H, jar: /tmp/h.jar}\n", "handler.jar");
        assertRejected(CLASSIFIER + "handler: {class: com.example.H}\n", "handler.jar", "required key is missing");
        assertRejected(CLASSIFIER + "handler: {class: com.example.H, jar: h.jar, x: 1}\n", "handler.x");
    }
}
