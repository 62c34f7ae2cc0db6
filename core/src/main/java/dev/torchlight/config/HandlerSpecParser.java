package dev.torchlight.config;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads the handler keys of a model's {@code config.yaml}: {@code handler}, and for the image
 * classifier {@code topk} and {@code image}. Checks that the model's declared inputs and outputs
 * fit the handler, so a mismatch fails at load time rather than on the first request.
 */
final class HandlerSpecParser {
    /** Upper bound of {@code topk}. */
    static final int MAX_TOPK = 1000;
    /** Upper bound of {@code image.resize}. */
    static final int MAX_SIDE = 8192;

    private static final Set<String> IMAGE_KEYS = Set.of("resize", "crop", "mean", "std", "max_pixels");
    private static final Set<String> CUSTOM_KEYS = Set.of("class", "jar");

    private HandlerSpecParser() {}

    static HandlerSpec parse(YamlSection yaml, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs) {
        Object raw = yaml.raw("handler");
        HandlerSpec spec;
        if (!yaml.keys().contains("handler") || "tensor".equals(raw)) {
            spec = HandlerSpec.TENSOR;
        } else if ("image_classifier".equals(raw)) {
            spec = imageClassifier(yaml, maxBatchSize, inputs, outputs);
        } else if (raw instanceof java.util.Map<?, ?>) {
            spec = custom(yaml.requireSection("handler"));
        } else {
            throw yaml.error("handler", "'tensor', 'image_classifier' or a custom handler {class: ..., jar: ...}",
                    raw);
        }
        if (!(spec instanceof HandlerSpec.ImageClassifier)) {
            for (String key : List.of("topk", "image")) {
                if (yaml.keys().contains(key)) {
                    throw new ConfigException(yaml.where(key) + "only applies to 'handler: image_classifier'");
                }
            }
        }
        return spec;
    }

    private static HandlerSpec imageClassifier(
            YamlSection yaml, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs) {
        int topk = yaml.keys().contains("topk") ? yaml.requireInt("topk", 1, MAX_TOPK) : 5;
        ImageOptions image = yaml.keys().contains("image") ? image(yaml.requireSection("image"))
                : ImageOptions.imagenet();
        String where = yaml.where("handler");
        if (maxBatchSize < 1) {
            throw new ConfigException(where + "image_classifier needs max_batch_size of at least 1: it sends images"
                    + " to the model as a batch of shape [n, 3, " + image.crop() + ", " + image.crop() + "]");
        }
        if (inputs.size() != 1 || outputs.size() != 1) {
            throw new ConfigException(where + "image_classifier needs a model with one input and one output; this"
                    + " model declares " + inputs.size() + " input(s) and " + outputs.size() + " output(s)");
        }
        TensorSpec in = inputs.get(0);
        long[] crop = {3, image.crop(), image.crop()};
        if (in.dataType() != DataType.FP32 || !in.accepts(crop, 0)) {
            throw new ConfigException(where + "image_classifier makes FP32 input of shape " + Shapes.format(crop)
                    + " (image.crop is " + image.crop() + "), but input '" + in.name() + "' is declared as " + in);
        }
        TensorSpec out = outputs.get(0);
        if (!out.dataType().isFloatingPoint() || out.shape().length != 1) {
            throw new ConfigException(where + "image_classifier reads one score per class, a floating-point output"
                    + " of shape [classes], but output '" + out.name() + "' is declared as " + out);
        }
        return new HandlerSpec.ImageClassifier(image, topk);
    }

    private static ImageOptions image(YamlSection s) {
        s.rejectUnknownKeys(IMAGE_KEYS);
        ImageOptions d = ImageOptions.imagenet();
        int resize = s.keys().contains("resize") ? s.requireInt("resize", 1, MAX_SIDE) : d.resize();
        int crop = s.keys().contains("crop") ? s.requireInt("crop", 1, MAX_SIDE) : Math.min(d.crop(), resize);
        if (crop > resize) {
            throw new ConfigException(s.where("crop") + "expected at most resize (" + resize + "): the crop is taken"
                    + " from the resized image, got " + crop);
        }
        List<Float> mean = s.keys().contains("mean") ? triple(s, "mean", false) : d.mean();
        List<Float> std = s.keys().contains("std") ? triple(s, "std", true) : d.std();
        long maxPixels = s.keys().contains("max_pixels") ? s.requireLong("max_pixels") : d.maxPixels();
        if (maxPixels < 1) {
            throw s.error("max_pixels", "a positive number of pixels (width × height)", s.raw("max_pixels"));
        }
        return new ImageOptions(resize, crop, mean, std, maxPixels);
    }

    private static List<Float> triple(YamlSection s, String key, boolean positive) {
        List<Object> values = s.requireList(key);
        List<Float> out = new ArrayList<>(3);
        for (Object v : values) {
            if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue()) || (positive && n.doubleValue() <= 0)) {
                out = null;
                break;
            }
            out.add(n.floatValue());
        }
        if (out == null || out.size() != 3) {
            throw s.error(key, "three " + (positive ? "positive " : "") + "numbers for R, G and B, such as "
                    + (positive ? ImageOptions.IMAGENET_STD : ImageOptions.IMAGENET_MEAN), s.raw(key));
        }
        return out;
    }

    private static HandlerSpec custom(YamlSection s) {
        s.rejectUnknownKeys(CUSTOM_KEYS);
        String className = s.requireString("class");
        String jar = s.requireString("jar");
        try {
            Path p = Path.of(jar).normalize();
            if (p.isAbsolute() || p.startsWith("..") || !jar.endsWith(".jar")) {
                throw s.error("jar", "the path of a .jar file inside the model directory, such as handler.jar", jar);
            }
        } catch (InvalidPathException e) {
            throw s.error("jar", "the path of a .jar file inside the model directory", jar);
        }
        return new HandlerSpec.Custom(className, jar);
    }
}
