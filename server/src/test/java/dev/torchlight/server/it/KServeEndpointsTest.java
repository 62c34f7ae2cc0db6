package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The endpoints KServe's and Triton's tools call, against the real server and real models: KServe's
 * v1 protocol (readiness, {@code :predict} with instances, answered with PyTorch's golden outputs),
 * Triton's model configuration extension, and KServe's single-model layout ({@code --model-name}).
 */
class KServeEndpointsTest {
    private static ServerHarness harness;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void v1ListsModelsAndAnswersReadiness() {
        JsonNode models = ServerHarness.json(harness.get("/v1/models"));
        assertThat(models.get("models")).extracting(JsonNode::asText).contains("mlp", "two_io", "no_batch");

        HttpResponse<String> ready = harness.get("/v1/models/mlp");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ServerHarness.json(ready).get("ready").asBoolean()).isTrue();
        assertThat(ServerHarness.json(ready).get("name").asText()).isEqualTo("mlp");
        assertThat(harness.get("/v1/models/nope").statusCode()).isEqualTo(404);
    }

    @Test
    void v1PredictAnswersEachInstanceWithPyTorchsOutputs() {
        // v1 has no versions: it serves the default one, the latest.
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/mlp_v2.json"));
        JsonNode input = golden.get("inputs").get(0);
        int rows = input.get("shape").get(0).asInt();
        int width = input.get("shape").get(1).asInt();
        StringBuilder instances = new StringBuilder("{\"instances\": [");
        for (int r = 0; r < rows; r++) {
            instances.append(r == 0 ? "[" : ", [");
            for (int c = 0; c < width; c++) {
                instances.append(c == 0 ? "" : ", ").append(input.get("data").get(r * width + c).asDouble());
            }
            instances.append("]");
        }
        instances.append("]}");

        HttpResponse<String> response = harness.post("/v1/models/mlp:predict", instances.toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode predictions = ServerHarness.json(response).get("predictions");
        JsonNode expected = golden.get("outputs").get(0);
        int outWidth = expected.get("shape").get(1).asInt();
        assertThat(predictions).hasSize(rows);
        for (int r = 0; r < rows; r++) {
            assertThat(predictions.get(r)).hasSize(outWidth);
            for (int c = 0; c < outWidth; c++) {
                assertThat(predictions.get(r).get(c).asDouble())
                        .isCloseTo(expected.get("data").get(r * outWidth + c).asDouble(), within(1e-5));
            }
        }
    }

    @Test
    void v1RefusesWhatItCannotServeWithAReason() {
        String row = "[" + "0.5, ".repeat(63) + "0.5]";
        assertError(harness.post("/v1/models/mlp:predict", "{\"inputs\": [" + row + "]}"), 400, "no 'instances'");
        assertError(harness.post("/v1/models/mlp:predict", "{\"instances\": []}"), 400, "'instances' is empty");
        assertError(harness.post("/v1/models/mlp:predict", "{\"instances\": [[1, 2, 3]]}"), 400, "shape [64]");
        assertError(harness.post("/v1/models/two_io:predict", "{\"instances\": [[1]]}"), 400, "one input");
        assertError(harness.post("/v1/models/nope:predict", "{\"instances\": [" + row + "]}"), 404, "nope");
        assertError(harness.post("/v1/models/mlp:explain", "{}"), 404, "no such endpoint");
        assertThat(harness.get("/v1/models/mlp:predict").statusCode()).isEqualTo(405);
    }

    @Test
    void v1ModelWithoutBatchDimensionTakesOneInstanceAndAnswersItWhole() {
        String instance = "[[1, 2, 3], [4, 5, 6]]";
        HttpResponse<String> one = harness.post("/v1/models/no_batch:predict", "{\"instances\": [" + instance + "]}");
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        JsonNode predictions = ServerHarness.json(one).get("predictions");
        assertThat(predictions).hasSize(1);
        assertThat(predictions.get(0)).hasSize(3);
        assertError(harness.post("/v1/models/no_batch:predict", "{\"instances\": [" + instance + ", " + instance
                + "]}"), 400, "has no batch dimension");
    }

    @Test
    void tritonModelConfigDescribesTheModelAsTritonsClientsReadIt() {
        JsonNode config = ServerHarness.json(harness.get("/v2/models/mlp/config"));
        assertThat(config.get("name").asText()).isEqualTo("mlp");
        assertThat(config.get("platform").asText()).isEqualTo("pytorch_libtorch");
        assertThat(config.get("backend").asText()).isEqualTo("pytorch");
        assertThat(config.get("max_batch_size").asInt()).isEqualTo(64);
        assertThat(config.get("input").get(0).get("name").asText()).isEqualTo("input");
        assertThat(config.get("input").get(0).get("data_type").asText()).isEqualTo("TYPE_FP32");
        assertThat(config.get("input").get(0).get("dims")).extracting(JsonNode::asLong).containsExactly(64L);
        assertThat(config.get("output").get(0).get("dims")).extracting(JsonNode::asLong).containsExactly(2L);
        assertThat(config.get("instance_group").get(0).get("kind").asText()).isEqualTo("KIND_CPU");
        assertThat(config.get("instance_group").get(0).get("count").asInt()).isEqualTo(1);

        assertThat(ServerHarness.json(harness.get("/v2/models/mlp/versions/2/config")).get("name").asText())
                .isEqualTo("mlp");
        assertThat(ServerHarness.json(harness.get("/v2/models/mlp_aoti/config")).get("platform").asText())
                .isEqualTo("torch_aoti");
        assertThat(ServerHarness.json(harness.get("/v2/models/dtypes16/config")).get("input"))
                .extracting(i -> i.get("data_type").asText()).contains("TYPE_BF16", "TYPE_INT16");
        assertThat(harness.get("/v2/models/nope/config").statusCode()).isEqualTo(404);

        JsonNode ragged = ServerHarness.json(harness.get("/v2/models/ragged_bag/config"));
        assertThat(ragged.get("input").get(0).get("allow_ragged_batch").asBoolean()).isTrue();
        assertThat(config.get("input").get(0).has("allow_ragged_batch")).isFalse();
        JsonNode batchInput = ragged.get("batch_input").get(0);
        assertThat(batchInput.get("kind").asText()).isEqualTo("BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO");
        assertThat(batchInput.get("target_name")).extracting(JsonNode::asText).containsExactly("offsets");
        assertThat(batchInput.get("data_type").asText()).isEqualTo("TYPE_INT64");
        assertThat(batchInput.get("source_input")).extracting(JsonNode::asText).containsExactly("ids");
    }

    @Test
    void aSingleModelFolderIsServedUnderTheGivenName(@TempDir Path dir) throws IOException {
        TestData.copyModels(dir, "mlp");
        try (ServerHarness single = new ServerHarness(singleModel(dir.resolve("mlp"), "risk-scorer"))) {
            assertThat(single.get("/v2/models/risk-scorer/ready").statusCode()).isEqualTo(200);
            assertThat(single.get("/v2/models/risk-scorer/versions/2/ready").statusCode()).isEqualTo(200);
            assertThat(ServerHarness.json(single.get("/v1/models")).get("models"))
                    .extracting(JsonNode::asText).containsExactly("risk-scorer");
            String row = "[" + "0.5, ".repeat(63) + "0.5]";
            assertThat(single.post("/v1/models/risk-scorer:predict", "{\"instances\": [" + row + "]}").statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void aBareModelFileBesideItsConfigIsVersionOne(@TempDir Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path source = TestData.models().resolve("mlp");
        Files.copy(source.resolve("config.yaml"), model.resolve("config.yaml"));
        Files.copy(source.resolve("1/model.pt"), model.resolve("model.pt"));
        try (ServerHarness single = new ServerHarness(singleModel(model, "scorer"))) {
            JsonNode metadata = ServerHarness.json(single.get("/v2/models/scorer"));
            assertThat(metadata.get("versions")).extracting(JsonNode::asText).containsExactly("1");
            assertThat(single.get("/v2/models/scorer/ready").statusCode()).isEqualTo(200);
        }
    }

    private static ServerConfig singleModel(Path dir, String name) {
        return new ServerConfig("127.0.0.1", 0, dir, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE,
                ServerConfig.METRICS_OFF, null, ManagementConfig.ephemeral(), SecurityConfig.defaults(), 0,
                HandlerConfig.defaults(), name);
    }

    private static void assertError(HttpResponse<String> response, int status, String contains) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(ServerHarness.json(response).get("error").asText()).contains(contains);
    }
}
