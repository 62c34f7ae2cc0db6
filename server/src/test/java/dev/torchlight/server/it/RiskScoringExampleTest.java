package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The risk-scoring example (examples/risk-scoring) through the real server: its small committed variant
 * ({@code make_model.py --tiny}: the same inputs and outputs, small tables and layers) gives PyTorch's
 * own probabilities for every recorded transaction, FP32 and INT8, and a transaction with an id out of
 * its embedding table is refused before the engine (each column's {@code value_range}).
 */
class RiskScoringExampleTest {
    /** The frozen, MKL-DNN-packed FP32 model against eager PyTorch; INT8 runs the same kernels as PyTorch. */
    private static final double TOLERANCE = 1e-5;

    static ServerHarness harness;
    static List<JsonNode> stream;
    static JsonNode reference;

    @BeforeAll
    static void start() throws IOException {
        Path example = TestData.root().resolve("examples/risk-scoring/testdata");
        stream = Files.readAllLines(example.resolve("stream.jsonl")).stream().filter(l -> !l.isBlank())
                .map(RiskScoringExampleTest::parse).toList();
        reference = TestData.read(example.resolve("reference.json"));
        harness = new ServerHarness(example.resolve("models"), List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void everyRecordedTransactionScoresAsInPyTorch() {
        assertThat(stream).hasSize(reference.get("fp32").size());
        for (int i = 0; i < stream.size(); i++) {
            // One at a time: each runs alone, as the int8 reference was computed (dynamic quantization
            // scales a batch's activations by the batch's own range).
            assertThat(score("risk", stream.get(i))).as("risk, transaction %d", i)
                    .isCloseTo(reference.get("fp32").get(i).asDouble(), within(TOLERANCE));
            assertThat(score("risk_nobatch", stream.get(i))).as("risk_nobatch, transaction %d", i)
                    .isCloseTo(reference.get("fp32").get(i).asDouble(), within(TOLERANCE));
            assertThat(score("risk_int8", stream.get(i))).as("risk_int8, transaction %d", i)
                    .isCloseTo(reference.get("int8").get(i).asDouble(), within(TOLERANCE));
        }
    }

    @Test
    void theWholeStreamInOneRequestScoresAsPyTorchsInt8BatchDoes() {
        // The stream is shorter than the reference's batches of 64: one batch, the same as one request.
        ObjectNode request = TestData.JSON.createObjectNode();
        ArrayNode inputs = request.putArray("inputs");
        for (int input = 0; input < 2; input++) { // categorical, dense
            ObjectNode stacked = stream.get(0).get("inputs").get(input).deepCopy();
            ((ArrayNode) stacked.get("shape")).set(0, stream.size());
            ArrayNode data = stacked.putArray("data");
            for (JsonNode transaction : stream) {
                data.addAll((ArrayNode) transaction.get("inputs").get(input).get("data"));
            }
            inputs.add(stacked);
        }

        JsonNode probabilities = infer("risk_int8", request.toString());

        assertThat(probabilities).hasSize(stream.size());
        for (int i = 0; i < stream.size(); i++) {
            assertThat(probabilities.get(i).asDouble()).as("transaction %d", i)
                    .isCloseTo(reference.get("int8_batched").get(i).asDouble(), within(TOLERANCE));
        }
    }

    @Test
    void anIdOutOfItsTableIsRefusedWith400NamingItsColumnAndTheModelServesOn() {
        ObjectNode bad = stream.get(0).deepCopy();
        ((ArrayNode) bad.get("inputs").get(0).get("data")).set(6, 6); // channel: 6 rows, ids 0..5

        for (String model : List.of("risk", "risk_nobatch", "risk_int8")) {
            HttpResponse<String> refused = harness.post("/v2/models/" + model + "/infer", bad.toString());
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("input 'categorical': element 6 (at [0, 6]) is 6, outside the"
                    + " value_range of its column, 6, [0, 5]");
        }
        for (String model : List.of("risk", "risk_nobatch")) {
            assertThat(score(model, stream.get(0))).isCloseTo(reference.get("fp32").get(0).asDouble(), within(TOLERANCE));
        }
    }

    private static double score(String model, JsonNode transaction) {
        JsonNode data = infer(model, transaction.toString());
        assertThat(data).hasSize(1);
        return data.get(0).asDouble();
    }

    private static JsonNode infer(String model, String body) {
        HttpResponse<String> response = harness.post("/v2/models/" + model + "/infer", body);
        assertThat(response.statusCode()).as(model + ": " + response.body()).isEqualTo(200);
        JsonNode output = ServerHarness.json(response).get("outputs").get(0);
        assertThat(output.get("name").asText()).isEqualTo("probability");
        return output.get("data");
    }

    private static JsonNode parse(String line) {
        try {
            return TestData.JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
