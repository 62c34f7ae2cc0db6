package dev.torchlight.handler.image;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ImageOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * An image's bytes to the model's input tensor: decode, {@link ResizeCrop resize and crop}, then
 * torchvision's {@code ToTensor} and {@code Normalize} in float32, channels first ([3, crop, crop]).
 */
public final class ImageTransform {
    private final ImageDecoder decoder;
    private final int resize;
    private final int crop;
    private final float[] mean = new float[3];
    private final float[] std = new float[3];

    public ImageTransform(ImageOptions options) {
        this.decoder = new ImageDecoder(options.maxPixels());
        this.resize = options.resize();
        this.crop = options.crop();
        for (int c = 0; c < 3; c++) {
            mean[c] = options.mean().get(c);
            std[c] = options.std().get(c);
        }
    }

    /**
     * @param name the tensor's name (the model's input)
     * @throws dev.torchlight.api.ServingException.InvalidInput when the bytes are not a usable image
     */
    public Tensor apply(String name, byte[] image) {
        RgbImage cropped = ResizeCrop.apply(decoder.decode(image), resize, crop);
        int plane = crop * crop;
        ByteBuffer bytes = ByteBuffer.allocate(plane * 3 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer out = bytes.asFloatBuffer();
        byte[] rgb = cropped.rgb();
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = 0, p = c; i < plane; i++, p += 3) {
                // Same float32 operations as ToTensor (x / 255) then Normalize ((x - mean) / std).
                out.put(c * plane + i, ((rgb[p] & 0xFF) / 255f - m) / s);
            }
        }
        return new Tensor(name, DataType.FP32, new long[] {3, crop, crop}, bytes);
    }
}
