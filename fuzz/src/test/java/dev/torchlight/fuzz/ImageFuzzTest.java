package dev.torchlight.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ImageOptions;
import dev.torchlight.handler.image.ImageTransform;

/**
 * The image classifier's preprocessing (JPEG and PNG decoding with the JDK's Image I/O, then
 * resize, crop and normalize) under fuzzed files: every file becomes the model's input tensor or
 * is refused with {@link ServingException.InvalidInput} and a message; nothing else may escape.
 * Small sizes keep each input cheap: the pixel limit is 256 × 256, the output 12 × 12.
 */
class ImageFuzzTest {
    private static final int CROP = 12;
    private static final ImageTransform TRANSFORM = new ImageTransform(new ImageOptions(16, CROP,
            ImageOptions.IMAGENET_MEAN, ImageOptions.IMAGENET_STD, 256 * 256));

    @FuzzTest(maxDuration = "60s")
    void decodesOrRefusesWithAClearError(byte[] file) {
        try {
            Tensor input = TRANSFORM.apply("x", file);
            assertThat(input.shape()).containsExactly(3, CROP, CROP);
        } catch (ServingException.InvalidInput expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
