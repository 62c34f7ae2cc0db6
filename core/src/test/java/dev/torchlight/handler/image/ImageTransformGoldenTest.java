package dev.torchlight.handler.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.Tensor;
import dev.torchlight.config.ImageOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java image pipeline against torchvision's Resize(256), CenterCrop(224), ToTensor and
 * Normalize on the committed photos (goldens by tools/make_image_fixtures.py, which does what
 * torchvision does to a PIL image with Pillow itself).
 *
 * <p>Tolerances: resizing, cropping and normalizing reproduce Pillow's integer arithmetic
 * exactly, so the only difference left is the decoder. PNG is lossless, so PNG tensors must match
 * to float rounding (1e-6). JPEG decoders may round the inverse DCT and chroma upsampling
 * differently (the JDK bundles IJG libjpeg 6b, Pillow links libjpeg-turbo): a pixel may be off by
 * a few levels, i.e. a few × 1/255/0.225 ≈ 0.017 per level after normalization. We allow 4 levels
 * on any element (0.07) and a mean difference under a quarter level (0.005), which a wrong filter,
 * crop offset, channel order or normalization exceeds by far. (With the JDK 25 and Pillow 9.4 or
 * 12.3 the tensors came out identical, CMYK and ICC-tagged JPEGs included.)
 */
class ImageTransformGoldenTest {
    static final double PNG_TOLERANCE = 1e-6;
    static final double JPEG_MAX = 4 / 255.0 / 0.224;
    static final double JPEG_MEAN = 0.005;

    @ParameterizedTest
    @ValueSource(strings = {"rocket.jpg", "coffee.jpg", "rocket_cmyk.jpg", "coffee_alpha.png", "camera_gray.png"})
    void matchesTorchvision(String image) throws IOException {
        Path root = root();
        Tensor tensor = new ImageTransform(ImageOptions.imagenet())
                .apply("image", Files.readAllBytes(root.resolve("testdata/images/" + image)));
        assertThat(tensor.shape()).containsExactly(3, 224, 224);
        float[] golden = golden(root.resolve("testdata/handlers/golden/" + image + ".f32.gz"));
        ByteBuffer data = tensor.data();
        double max = 0;
        double sum = 0;
        for (int i = 0; i < golden.length; i++) {
            double d = Math.abs(data.getFloat(i * 4) - golden[i]);
            max = Math.max(max, d);
            sum += d;
        }
        double mean = sum / golden.length;
        if (image.endsWith(".png")) {
            assertThat(max).as("max difference").isLessThanOrEqualTo(PNG_TOLERANCE);
        } else {
            assertThat(max).as("max difference").isLessThanOrEqualTo(JPEG_MAX);
            assertThat(mean).as("mean difference").isLessThanOrEqualTo(JPEG_MEAN);
        }
    }

    static float[] golden(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[b.remaining() / 4];
            b.asFloatBuffer().get(out);
            return out;
        }
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata/handlers"))) {
            dir = dir.getParent();
        }
        return dir;
    }
}
