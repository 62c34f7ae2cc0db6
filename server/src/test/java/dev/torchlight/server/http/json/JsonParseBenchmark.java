package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.torchlight.api.DataType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How long decoding tensor data from JSON takes, token by token through Jackson against the one
 * pass of {@link TensorJsonParser}: a risk row (256 floats) and a ResNet-50 image (150 528). Not a
 * test (nothing asserts a time); run it on a quiet machine after {@code ./mvnw -pl server -am
 * test-compile}:
 *
 * <pre>
 * java -cp server/target/torchlight.jar:server/target/test-classes \
 *     dev.torchlight.server.http.json.JsonParseBenchmark
 * </pre>
 */
public final class JsonParseBenchmark {
    private JsonParseBenchmark() {}

    public static void main(String[] args) throws IOException {
        JsonFactory tokens = new JsonFactoryBuilder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .build();
        for (int elements : new int[] {256, 150_528}) {
            byte[] body = floats(elements);
            for (int round = 0; round < 2; round++) {
                for (JsonFactory factory : new JsonFactory[] {tokens, Json.FACTORY}) {
                    long nanos = best(factory, body, elements);
                    System.out.printf(Locale.ROOT, "%7d floats, %-14s %9.1f µs per tensor, %5.1f ns per float%n",
                            elements, factory == tokens ? "Jackson tokens" : "one pass", nanos / 1e3,
                            (double) nanos / elements);
                }
            }
        }
    }

    /** The best mean time per tensor over five timed rounds. */
    private static long best(JsonFactory factory, byte[] body, int elements) throws IOException {
        int iterations = Math.max(20, 20_000_000 / body.length);
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                try (JsonParser parser = factory.createParser(body)) {
                    parser.nextToken();
                    JsonTensorReader.read(parser, "x", DataType.FP32, new long[] {elements}, body.length);
                }
            }
            best = Math.min(best, (System.nanoTime() - start) / iterations);
        }
        return best;
    }

    /** A JSON array of random floats as a client writes them ({@code Float.toString}). */
    private static byte[] floats(int n) {
        SplittableRandom random = new SplittableRandom(42);
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append((float) random.nextDouble(-1, 1));
        }
        return text.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }
}
