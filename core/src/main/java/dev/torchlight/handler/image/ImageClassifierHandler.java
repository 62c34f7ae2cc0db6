package dev.torchlight.handler.image;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.handler.Handler;
import dev.torchlight.handler.HandlerContext;
import dev.torchlight.handler.HandlerItem;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code handler: image_classifier}: a JPEG or PNG image in, the {@code topk} most probable
 * classes out as {@code {"label": probability}} in descending order, as TorchServe's
 * image_classifier answers. The image is preprocessed like torchvision's
 * {@code Resize, CenterCrop, ToTensor, Normalize} (see {@link ImageTransform}); the model's output
 * scores go through a softmax.
 */
public final class ImageClassifierHandler implements Handler {
    private final String input;
    private final ImageTransform transform;
    private final Labels labels;
    private final int topk;

    private ImageClassifierHandler(String input, ImageTransform transform, Labels labels, int topk) {
        this.input = input;
        this.transform = transform;
        this.labels = labels;
        this.topk = topk;
    }

    /** @throws ServingException.NotReady when the label file is unreadable */
    public static ImageClassifierHandler create(HandlerContext context, HandlerSpec.ImageClassifier spec) {
        Labels labels;
        try {
            labels = Labels.load(context.modelDirectory());
        } catch (ConfigException e) {
            throw new ServingException.NotReady("model '" + context.config().name() + "': " + e.getMessage());
        }
        return new ImageClassifierHandler(context.config().inputs().get(0).name(), new ImageTransform(spec.image()),
                labels, spec.topk());
    }

    @Override
    public List<Tensor> preprocess(HandlerItem item) {
        String type = item.contentType();
        if (type != null && !acceptable(type)) {
            throw new ServingException.InvalidInput("'" + item.name() + "' is declared as " + type
                    + "; expected an image (image/jpeg, image/png) or application/octet-stream");
        }
        return List.of(transform.apply(input, item.data()));
    }

    private static boolean acceptable(String contentType) {
        String t = contentType.toLowerCase(Locale.ROOT).strip();
        return t.isEmpty() || t.startsWith("image/") || t.startsWith("application/octet-stream");
    }

    @Override
    public Object postprocess(List<Tensor> outputs) {
        Tensor scores = outputs.get(0);
        double[] p = softmax(scores);
        int k = Math.min(topk, p.length);
        int[] best = top(p, k);
        Map<String, Object> answer = new LinkedHashMap<>();
        for (int index : best) {
            String name = labels.name(index);
            if (answer.containsKey(name)) {
                name = name + " (" + index + ")";
            }
            answer.put(name, p[index]);
        }
        return answer;
    }

    static double[] softmax(Tensor scores) {
        int n = (int) scores.elementCount();
        double[] v = new double[n];
        ByteBuffer data = scores.data();
        for (int i = 0; i < n; i++) {
            v[i] = switch (scores.dataType()) {
                case FP32 -> data.getFloat(i * 4);
                case FP64 -> data.getDouble(i * 8);
                case FP16 -> Float.float16ToFloat(data.getShort(i * 2));
                case BF16 -> Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
                default -> throw new ServingException.Internal("the model's scores are " + scores.dataType()
                        + "; expected floating point", null);
            };
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            v[i] = Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = 0; i < n; i++) {
            v[i] /= sum;
        }
        return v;
    }

    /** Indices of the k largest values, largest first; ties keep the lower index first. */
    static int[] top(double[] p, int k) {
        int[] best = new int[k];
        int filled = 0;
        for (int i = 0; i < p.length; i++) {
            if (filled == k && p[i] <= p[best[k - 1]]) {
                continue;
            }
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && p[best[at - 1]] < p[i]) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }
        return best;
    }
}
