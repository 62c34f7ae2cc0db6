package com.example.scoring;

import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.handler.Handler;
import dev.torchlight.handler.HandlerContext;
import dev.torchlight.handler.HandlerItem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An example torchlight handler: clients send one comma-separated row of numbers per item (a
 * text/csv body, or one form field per row) and get {"label": ..., "probability": ...} back.
 *
 * <p>The model takes FP32 rows of its declared width and answers one score per class; the class
 * names come from classes.txt next to the model's config.yaml.
 */
public final class CsvScoringHandler implements Handler {
    private final String input;
    private final int width;
    private final List<String> classes;

    public CsvScoringHandler(HandlerContext context) throws IOException {
        TensorSpec spec = context.config().inputs().get(0);
        this.input = spec.name();
        this.width = (int) spec.shape()[0];
        Path names = context.modelDirectory().resolve("classes.txt");
        this.classes = Files.readAllLines(names, StandardCharsets.UTF_8).stream().map(String::strip).toList();
    }

    @Override
    public List<Tensor> preprocess(HandlerItem item) {
        String[] cells = new String(item.data(), StandardCharsets.UTF_8).strip().split("\\s*,\\s*");
        if (cells.length != width) {
            throw new ServingException.InvalidInput("'" + item.name() + "' has " + cells.length
                    + " values; expected " + width + " comma-separated numbers");
        }
        ByteBuffer row = ByteBuffer.allocate(width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (String cell : cells) {
            try {
                row.putFloat(Float.parseFloat(cell));
            } catch (NumberFormatException e) {
                throw new ServingException.InvalidInput("'" + item.name() + "': '" + cell + "' is not a number");
            }
        }
        return List.of(new Tensor(input, DataType.FP32, new long[] {width}, row.flip()));
    }

    @Override
    public Object postprocess(List<Tensor> outputs) {
        ByteBuffer scores = outputs.get(0).data();
        int n = scores.remaining() / Float.BYTES;
        int best = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (scores.getFloat(i * 4) > max) {
                max = scores.getFloat(i * 4);
                best = i;
            }
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(scores.getFloat(i * 4) - max);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("label", best < classes.size() ? classes.get(best) : Integer.toString(best));
        answer.put("probability", 1.0 / sum);
        return answer;
    }
}
