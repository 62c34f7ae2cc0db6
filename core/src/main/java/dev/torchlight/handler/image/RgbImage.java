package dev.torchlight.handler.image;

/**
 * A decoded image as 8-bit RGB, interleaved, row by row.
 *
 * @param width pixels per row
 * @param height rows
 * @param rgb {@code width * height * 3} bytes: R, G, B of each pixel
 */
record RgbImage(int width, int height, byte[] rgb) {
    RgbImage {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException(width + "x" + height + " RGB needs " + width * height * 3 + " bytes");
        }
    }
}
