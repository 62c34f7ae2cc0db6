package dev.torchlight.config;

import java.util.List;

/**
 * How the image classifier turns an image into the model's input, torchvision's
 * {@code Resize(resize)}, {@code CenterCrop(crop)}, {@code ToTensor()} and
 * {@code Normalize(mean, std)}; {@code image:} in a model's {@code config.yaml}.
 *
 * @param resize the shorter side is scaled to this many pixels (bilinear, antialiased)
 * @param crop the centre square of this side is kept
 * @param mean per-channel mean (R, G, B) subtracted from values in [0, 1]
 * @param std per-channel standard deviation (R, G, B) divided by
 * @param maxPixels images with more pixels (width × height, read from the header) are refused
 *     before they are decoded
 */
public record ImageOptions(int resize, int crop, List<Float> mean, List<Float> std, long maxPixels) {
    /** ImageNet's channel means. */
    public static final List<Float> IMAGENET_MEAN = List.of(0.485f, 0.456f, 0.406f);
    /** ImageNet's channel standard deviations. */
    public static final List<Float> IMAGENET_STD = List.of(0.229f, 0.224f, 0.225f);
    /** 40 megapixels: about 120 MB decoded, more than any camera photo a classifier needs. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    public ImageOptions {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
        if (resize < crop) {
            throw new IllegalArgumentException("resize (" + resize + ") must be at least crop (" + crop + ")");
        }
        if (mean.size() != 3 || std.size() != 3) {
            throw new IllegalArgumentException("mean and std need three values (R, G, B)");
        }
    }

    /** Resize 256, crop 224, ImageNet mean and std. */
    public static ImageOptions imagenet() {
        return new ImageOptions(256, 224, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_MAX_PIXELS);
    }
}
