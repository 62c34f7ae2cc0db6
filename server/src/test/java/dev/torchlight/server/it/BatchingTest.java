package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.server.runtime.EngineFactory;
import dev.torchlight.server.runtime.TorchlightServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic batching on the real engine: requests that the scheduler packs together get exactly the
 * numbers PyTorch gives them alone, and an engine that runs out of memory above some batch size
 * has its batches halved until they fit.
 */
class BatchingTest {
    /** Fails any run of more than this many rows as out of memory, like a GPU would. */
    static final int OOM_ABOVE_ROWS = 2;

    @TempDir
    static Path repo;

    static TorchlightServer server;
    static URI base;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws IOException {
        // A long delay so that concurrent requests surely meet in one batch.
        batchedCopy("mlp", "mlp", "dynamic_batching: {max_queue_delay_us: 200000, preferred_batch_sizes: [16]}\n");
        batchedCopy("mlp", "mlp_oom", "dynamic_batching: {max_queue_delay_us: 200000, preferred_batch_sizes: [8]}\n");
        server = TorchlightServer.start(new ServerConfig("127.0.0.1", 0, repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE),
                new OomAboveRows(EngineFactory.create()));
        base = URI.create("http://127.0.0.1:" + server.httpAddress().getPort());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void batchedOutputsEqualUnbatchedOutputsEqualPyTorch() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/mlp_v2.json"));
        JsonNode rows = golden.get("inputs").get(0).get("data");
        JsonNode expected = golden.get("outputs").get(0).get("data");

        // 16 one-row requests at once (rows 0 and 1 of the golden, alternating): one batch of 16.
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            answers.add(post("/v2/models/mlp/infer", oneRow(rows, i % 2)));
        }
        for (int i = 0; i < 16; i++) {
            HttpResponse<String> r = answers.get(i).join();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode data = ServerHarness.json(r).get("outputs").get(0).get("data");
            GoldenOutputsTest.assertClose(data, pair(expected, i % 2), 1e-5, "request " + i);
        }
        // The same rows alone, unbatched, give the same numbers.
        HttpResponse<String> alone = post("/v2/models/mlp/infer", oneRow(rows, 1)).join();
        GoldenOutputsTest.assertClose(ServerHarness.json(alone).get("outputs").get(0).get("data"), pair(expected, 1), 1e-5,
                "alone");

        JsonNode stats = stats("mlp");
        assertThat(stats.get("execution_count").asLong()).as("16 requests in fewer runs").isLessThan(17);
        assertThat(stats.get("batch_stats").findValues("batch_size").stream().mapToInt(JsonNode::asInt).max().orElse(0))
                .as("some run carried several requests").isGreaterThan(1);
    }

    @Test
    void outOfMemoryHalvesTheBatchUntilItFitsAndEveryRequestIsAnswered() {
        JsonNode golden = TestData.read(TestData.root().resolve("testdata/golden/mlp_v2.json"));
        JsonNode rows = golden.get("inputs").get(0).get("data");
        JsonNode expected = golden.get("outputs").get(0).get("data");

        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            answers.add(post("/v2/models/mlp_oom/infer", oneRow(rows, i % 2)));
        }
        for (int i = 0; i < 8; i++) {
            HttpResponse<String> r = answers.get(i).join();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            GoldenOutputsTest.assertClose(ServerHarness.json(r).get("outputs").get(0).get("data"), pair(expected, i % 2),
                    1e-5, "request " + i);
        }
        JsonNode stats = stats("mlp_oom");
        assertThat(stats.get("batch_stats").findValues("batch_size")).as("only runs that fit succeeded")
                .allSatisfy(size -> assertThat(size.asInt()).isLessThanOrEqualTo(OOM_ABOVE_ROWS));
        assertThat(stats.get("inference_count").asLong()).isEqualTo(8);
    }

    private static ArrayNode pair(JsonNode flat, int row) {
        ArrayNode out = TestData.JSON.createArrayNode();
        out.add(flat.get(2 * row));
        out.add(flat.get(2 * row + 1));
        return out;
    }

    private static String oneRow(JsonNode flat, int row) {
        ArrayNode data = TestData.JSON.createArrayNode();
        for (int j = 0; j < 64; j++) {
            data.add(flat.get(row * 64 + j));
        }
        ObjectNode input = TestData.JSON.createObjectNode().put("name", "input").put("datatype", "FP32");
        input.putArray("shape").add(1).add(64);
        input.set("data", data);
        ObjectNode request = TestData.JSON.createObjectNode();
        request.putArray("inputs").add(input);
        return request.toString();
    }

    private static CompletableFuture<HttpResponse<String>> post(String path, String body) {
        return CLIENT.sendAsync(HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode stats(String model) {
        HttpResponse<String> r = CLIENT.sendAsync(HttpRequest.newBuilder(base.resolve("/v2/models/" + model + "/stats")).build(),
                HttpResponse.BodyHandlers.ofString()).join();
        return ServerHarness.json(r).get("model_stats").get(0);
    }

    /** mlp's version 2 under another name, with a batching section appended to its config. */
    private static void batchedCopy(String from, String name, String batching) throws IOException {
        Path source = TestData.models().resolve(from);
        Path target = Files.createDirectories(repo.resolve(name).resolve("1"));
        Files.copy(source.resolve("2/model.pt"), target.resolve("model.pt"));
        String config = Files.readString(source.resolve("config.yaml")).replace("name: " + from, "name: " + name);
        Files.writeString(repo.resolve(name).resolve("config.yaml"), config + batching);
    }

    /** The real engine, except that models named *_oom run out of memory above {@link #OOM_ABOVE_ROWS} rows. */
    record OomAboveRows(Engine engine) implements Engine {
        @Override
        public String name() {
            return engine.name();
        }

        @Override
        public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
            LoadedModel real = engine.load(config, modelFile, placement);
            if (!config.name().endsWith("_oom")) {
                return real;
            }
            return new LoadedModel() {
                @Override
                public List<Tensor> infer(List<Tensor> inputs) {
                    if (inputs.get(0).dim(0) > OOM_ABOVE_ROWS) {
                        throw new EngineException("CUDA out of memory. Tried to allocate 2.00 GiB", null, EngineException.Kind.OUT_OF_MEMORY);
                    }
                    return real.infer(inputs);
                }

                @Override
                public void close() {
                    real.close();
                }
            };
        }
    }
}
