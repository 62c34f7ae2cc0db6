package dev.torchlight.bench.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.http.HttpTarget;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of a model's Open Inference Protocol metadata ({@code GET /v2/models/{m}}) the load
 * generator needs: its inputs.
 *
 * @param name model name
 * @param inputs declared inputs, in order
 */
record ModelMetadata(String name, List<InputSpec> inputs) {
    private static final ObjectMapper JSON = new ObjectMapper();

    ModelMetadata {
        inputs = List.copyOf(inputs);
    }

    /**
     * Parses a metadata body.
     *
     * @throws IllegalArgumentException when it does not have the protocol's shape
     */
    static ModelMetadata parse(String body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata is not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode inputs = root == null ? null : root.get("inputs");
        if (inputs == null || !inputs.isArray()) {
            throw new IllegalArgumentException("metadata has no \"inputs\" array");
        }
        List<InputSpec> specs = new ArrayList<>();
        for (JsonNode input : inputs) {
            JsonNode shape = input.get("shape");
            if (!input.path("name").isTextual() || !input.path("datatype").isTextual()
                    || shape == null || !shape.isArray()) {
                throw new IllegalArgumentException("metadata input needs name, datatype and shape: " + input);
            }
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < -1) {
                    throw new IllegalArgumentException("metadata shape is not a list of sizes: " + input);
                }
                dims[i] = shape.get(i).asLong();
            }
            specs.add(new InputSpec(input.get("name").asText(), Datatype.parse(input.get("datatype").asText()), dims));
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("metadata declares no inputs");
        }
        return new ModelMetadata(root.path("name").asText(""), specs);
    }

    /**
     * Fetches and parses a model's metadata.
     *
     * @throws LoadBenchException saying what failed and to pass {@code --input-file} instead
     */
    static ModelMetadata fetch(HttpTarget target, String model, String version, Duration timeout) {
        String path = "/v2/models/" + HttpTarget.segment(model)
                + (version == null ? "" : "/versions/" + HttpTarget.segment(version));
        String where = target.uri(path).toString();
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(target.uri(path)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw cannotRead(where, "HTTP " + response.statusCode() + " " + response.body().strip(), null);
            }
            return parse(response.body());
        } catch (IOException e) {
            throw cannotRead(where, e.toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw cannotRead(where, "interrupted", e);
        } catch (IllegalArgumentException e) {
            throw cannotRead(where, e.getMessage(), e);
        }
    }

    private static LoadBenchException cannotRead(String where, String why, Throwable cause) {
        return new LoadBenchException("cannot read the model's metadata from " + where + " (" + why
                + "), which random input data is made from; pass --input-file FILE with a request body to send",
                cause);
    }
}
