package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedding ids on the real server and engine: an id outside a table's {@code value_range} is the
 * client's error (400, gRPC INVALID_ARGUMENT) naming it, before it reaches libtorch; without a
 * range libtorch's error is a 500 with a clean message and the model keeps serving; and ragged id
 * lists batched together get what PyTorch gives each alone.
 */
class EmbeddingIdsTest {
    @TempDir
    static Path repo;

    static ServerHarness harness;
    static ManagedChannel channel;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws IOException {
        // ragged_bag declares value_range [0, 99] for its ids; embedding_bag (100 rows too) declares none.
        TestData.copyModels(repo, "embedding_bag", "ragged_bag");
        // A long delay and a preferred size of 8 rows: concurrent requests surely meet in one batch.
        copy("ragged_bag", "ragged_bag_batched", config -> config
                + "dynamic_batching: {max_queue_delay_us: 200000, preferred_batch_sizes: [8]}\n");
        harness = new ServerHarness(repo, List.of(), dev.torchlight.config.ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
        channel = GrpcEndpointsTest.channel(harness);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        harness.close();
    }

    private static void copy(String from, String name, java.util.function.UnaryOperator<String> edit) throws IOException {
        Path target = Files.createDirectories(repo.resolve(name).resolve("1"));
        Files.copy(TestData.models().resolve(from).resolve("1/model.pt"), target.resolve("model.pt"));
        String config = Files.readString(TestData.models().resolve(from).resolve("config.yaml"))
                .replace("name: " + from, "name: " + name);
        Files.writeString(repo.resolve(name).resolve("config.yaml"), edit.apply(config));
    }

    /** A v2 request of INT64 {@code ids} shaped {@code [rows, values.length / rows]}. */
    private static String idsRequest(int rows, long... values) {
        ObjectNode input = TestData.JSON.createObjectNode().put("name", "ids").put("datatype", "INT64");
        input.putArray("shape").add(rows).add(values.length / rows);
        var data = input.putArray("data");
        for (long v : values) {
            data.add(v);
        }
        ObjectNode request = TestData.JSON.createObjectNode();
        request.putArray("inputs").add(input);
        return request.toString();
    }

    private static String error(HttpResponse<String> response) {
        return ServerHarness.json(response).get("error").asText();
    }

    @Test
    void anIdOutsideTheValueRangeIsABadRequestNamingItOverRest() {
        HttpResponse<String> r = harness.post("/v2/models/ragged_bag/infer", idsRequest(2, 1, 2, 3, 4, 100, 6));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r)).contains("input 'ids': element 4 (at [1, 1]) is 100, outside the input's value_range"
                + " [0, 99]");
        HttpResponse<String> negative = harness.post("/v2/models/ragged_bag/infer", idsRequest(1, -1));
        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(error(negative)).contains("element 0 (at [0, 0]) is -1");
        // Both ends of the range are rows of the table.
        assertThat(harness.post("/v2/models/ragged_bag/infer", idsRequest(1, 0, 99)).statusCode()).isEqualTo(200);
    }

    @Test
    void anIdOutsideTheValueRangeIsInvalidArgumentOverGrpc() {
        ByteBuffer ids = ByteBuffer.allocate(3 * 8).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putLong(7)
                .putLong(1L << 40).flip();
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("ragged_bag")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("ids").setDatatype("INT64")
                        .addShape(1).addShape(3))
                .addRawInputContents(ByteString.copyFrom(ids))
                .build();

        assertThatThrownBy(() -> GRPCInferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("input 'ids': element 2 (at [0, 2]) is "
                            + (1L << 40) + ", outside the input's value_range [0, 99]");
                });
    }

    @Test
    void withoutAValueRangeLibtorchsIndexErrorIsA500WithACleanMessageAndTheModelServesOn() {
        HttpResponse<String> r = harness.post("/v2/models/embedding_bag/infer", idsRequest(1, 3, 100));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
        assertThat(error(r)).contains("takes value 100 which is not in the valid range [0, 100)").doesNotContain("frame #", "Exception raised from", "\tat ");
        assertThat(harness.post("/v2/models/embedding_bag/infer", idsRequest(1, 3, 99)).statusCode())
                .isEqualTo(200);
    }

    @Test
    void raggedRequestsBatchedTogetherGetWhatPyTorchGivesEachAlone() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/ragged/ragged_bag.json"));
        List<String> bodies = new ArrayList<>();
        for (JsonNode request : golden.get("requests")) {
            ObjectNode body = TestData.JSON.createObjectNode();
            body.set("inputs", request.get("inputs"));
            bodies.add(body.toString());
        }
        URI infer = harness.base.resolve("/v2/models/ragged_bag_batched/infer");
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (String body : bodies) {
            together.add(CLIENT.sendAsync(HttpRequest.newBuilder(infer).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < bodies.size(); i++) {
            JsonNode expected = golden.get("requests").get(i).get("outputs").get(0);
            HttpResponse<String> batched = together.get(i).join();
            assertThat(batched.statusCode()).as(batched.body()).isEqualTo(200);
            JsonNode output = ServerHarness.json(batched).get("outputs").get(0);
            assertThat(output.get("shape")).as("request " + i).isEqualTo(expected.get("shape"));
            GoldenOutputsTest.assertClose(output.get("data"), expected.get("data"), 1e-6, "batched request " + i);
            // Alone, through the model without dynamic batching.
            HttpResponse<String> alone = harness.post("/v2/models/ragged_bag/infer", bodies.get(i));
            assertThat(alone.statusCode()).as(alone.body()).isEqualTo(200);
            GoldenOutputsTest.assertClose(ServerHarness.json(alone).get("outputs").get(0).get("data"),
                    expected.get("data"), 1e-6, "request " + i + " alone");
        }
        JsonNode stats = ServerHarness.json(harness.get("/v2/models/ragged_bag_batched/stats")).get("model_stats").get(0);
        assertThat(stats.get("execution_count").asLong()).as("requests of different lengths shared runs")
                .isLessThan(bodies.size());
    }
}
