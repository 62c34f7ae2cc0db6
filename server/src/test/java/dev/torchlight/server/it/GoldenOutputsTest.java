package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fixture model, through the real server, gives PyTorch's own numbers. */
class GoldenOutputsTest {
    static ServerHarness harness;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    static Stream<Path> goldens() {
        return TestData.goldens().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void v2InferMatchesPyTorch(Path goldenFile) {
        JsonNode golden = TestData.read(goldenFile);
        ObjectNode request = TestData.JSON.createObjectNode();
        request.put("id", "golden-" + goldenFile.getFileName());
        request.set("inputs", golden.get("inputs"));
        String path = "/v2/models/" + golden.get("model").asText() + "/versions/" + golden.get("version").asInt() + "/infer";

        HttpResponse<String> response = harness.post(path, request.toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = ServerHarness.json(response);
        assertThat(body.get("model_name").asText()).isEqualTo(golden.get("model").asText());
        assertThat(body.get("model_version").asText()).isEqualTo(golden.get("version").asText());
        assertThat(body.get("id").asText()).isEqualTo("golden-" + goldenFile.getFileName());
        assertOutputsEqual(body.get("outputs"), golden.get("outputs"));
    }

    @Test
    void predictionsMatchesPyTorchForSingleInputModels() {
        for (String model : List.of("mlp_v2", "cnn", "embedding_bag", "no_batch")) {
            JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/" + model + ".json"));
            JsonNode input = golden.get("inputs").get(0);
            JsonNode output = golden.get("outputs").get(0);

            HttpResponse<String> response = harness.post(
                    "/predictions/" + golden.get("model").asText(), nest(input.get("data"), shape(input)).toString());

            assertThat(response.statusCode()).as(model + ": " + response.body()).isEqualTo(200);
            assertClose(flatten(ServerHarness.json(response)), output.get("data"), 1e-5, model);
        }
    }

    @Test
    void predictionsAddsAndStripsTheBatchDimensionForOneSample() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        ArrayNode firstRow = TestData.JSON.createArrayNode();
        golden.get("inputs").get(0).get("data").forEach(v -> {
            if (firstRow.size() < 64) {
                firstRow.add(v);
            }
        });

        HttpResponse<String> response = harness.post("/predictions/mlp/1", firstRow.toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode answer = ServerHarness.json(response);
        assertThat(answer.isArray()).isTrue();
        assertThat(answer.size()).isEqualTo(2);
        assertThat(answer.get(0).isNumber()).as("one sample answers without a batch dimension").isTrue();
        ArrayNode firstAnswer = TestData.JSON.createArrayNode();
        firstAnswer.add(golden.get("outputs").get(0).get("data").get(0));
        firstAnswer.add(golden.get("outputs").get(0).get("data").get(1));
        assertClose(answer, firstAnswer, 1e-5, "mlp row 0");
    }

    static void assertOutputsEqual(JsonNode actual, JsonNode expected) {
        assertThat(actual.size()).isEqualTo(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            JsonNode a = actual.get(i);
            JsonNode e = expected.get(i);
            String name = e.get("name").asText();
            assertThat(a.get("name").asText()).isEqualTo(name);
            assertThat(a.get("datatype").asText()).as(name).isEqualTo(e.get("datatype").asText());
            assertThat(a.get("shape")).as(name).isEqualTo(e.get("shape"));
            String type = e.get("datatype").asText();
            double tolerance = switch (type) {
                case "FP16" -> 1e-3;
                case "BF16" -> 1e-2;
                default -> 1e-5;
            };
            if (type.equals("BOOL") || type.startsWith("INT") || type.startsWith("UINT")) {
                assertThat(a.get("data")).as(name).isEqualTo(e.get("data"));
            } else {
                assertClose(a.get("data"), e.get("data"), tolerance, name);
            }
        }
    }

    static void assertClose(JsonNode actual, JsonNode expected, double tolerance, String what) {
        assertThat(actual.size()).as(what + " element count").isEqualTo(expected.size());
        for (int j = 0; j < expected.size(); j++) {
            double e = expected.get(j).asDouble();
            assertThat(actual.get(j).asDouble()).as(what + "[" + j + "]")
                    .isCloseTo(e, within(tolerance * Math.max(1, Math.abs(e))));
        }
    }

    static int[] shape(JsonNode tensor) {
        int[] shape = new int[tensor.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = tensor.get("shape").get(i).asInt();
        }
        return shape;
    }

    /** Flat row-major data as a nested array of the given shape. */
    static JsonNode nest(JsonNode flat, int[] shape) {
        return nest(flat, shape, 0, new int[] {0});
    }

    private static JsonNode nest(JsonNode flat, int[] shape, int dim, int[] cursor) {
        if (dim == shape.length) {
            return flat.get(cursor[0]++);
        }
        ArrayNode array = TestData.JSON.createArrayNode();
        for (int i = 0; i < shape[dim]; i++) {
            array.add(nest(flat, shape, dim + 1, cursor));
        }
        return array;
    }

    static ArrayNode flatten(JsonNode nested) {
        ArrayNode out = TestData.JSON.createArrayNode();
        flattenInto(nested, out);
        return out;
    }

    private static void flattenInto(JsonNode node, ArrayNode out) {
        if (node.isArray()) {
            node.forEach(child -> flattenInto(child, out));
        } else {
            out.add(node);
        }
    }
}
