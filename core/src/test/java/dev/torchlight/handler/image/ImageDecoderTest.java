package dev.torchlight.handler.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Hostile and broken input to the decoder: refused with a message, before any large allocation. */
class ImageDecoderTest {
    static byte[] rocket() throws IOException {
        return Files.readAllBytes(ImageTransformGoldenTest.root().resolve("testdata/images/rocket.jpg"));
    }

    /** rocket.jpg with its frame header (SOF0) claiming 60000 x 60000 pixels. */
    static byte[] jpegBomb() throws IOException {
        byte[] b = rocket();
        for (int i = 2; i + 9 < b.length; i++) {
            if ((b[i] & 0xFF) == 0xFF && ((b[i + 1] & 0xFF) == 0xC0 || (b[i + 1] & 0xFF) == 0xC2)) {
                b[i + 5] = (byte) 0xEA; // height 0xEA60 = 60000
                b[i + 6] = (byte) 0x60;
                b[i + 7] = (byte) 0xEA; // width 60000
                b[i + 8] = (byte) 0x60;
                return b;
            }
        }
        throw new AssertionError("no SOF marker");
    }

    @Test
    void decodesAWholeJpeg() throws IOException {
        RgbImage image = new ImageDecoder(40_000_000).decode(rocket());
        assertThat(image.width()).isEqualTo(640);
        assertThat(image.height()).isEqualTo(427);
    }

    @Test
    void dimensionsOverTheLimitAreRefusedFromTheHeader() throws IOException {
        assertThatThrownBy(() -> new ImageDecoder(40_000_000).decode(jpegBomb()))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("60000x60000 = 3600000000 pixels, more than the limit of 40000000");
        assertThatThrownBy(() -> new ImageDecoder(1000).decode(rocket()))
                .isInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("640x427");
    }

    @Test
    void truncatedAndForeignBytesAreRefused() throws IOException {
        byte[] rocket = rocket();
        assertThatThrownBy(() -> new ImageDecoder(40_000_000).decode(Arrays.copyOf(rocket, 20_000)))
                .isInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("JPEG image");
        assertThatThrownBy(() -> new ImageDecoder(40_000_000).decode(Arrays.copyOf(rocket, 3)))
                .isInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("JPEG image");
        assertThatThrownBy(() -> new ImageDecoder(40_000_000).decode("<html>".getBytes()))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("not a JPEG or PNG image (6 bytes, starting 3c68746d)");
        assertThatThrownBy(() -> new ImageDecoder(40_000_000).decode(new byte[0]))
                .isInstanceOf(ServingException.InvalidInput.class).hasMessageContaining("empty");
    }

    @Test
    void pilsCmykFormulaRoundsLikePil() {
        assertThat(ImageDecoder.mulDiv255(255, 255)).isEqualTo(255);
        assertThat(ImageDecoder.mulDiv255(217, 255)).isEqualTo(217);
        assertThat(ImageDecoder.mulDiv255(128, 128)).isEqualTo(64);
        assertThat(ImageDecoder.mulDiv255(0, 200)).isZero();
    }
}
