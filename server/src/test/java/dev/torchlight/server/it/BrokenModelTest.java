package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model whose config or file is broken fails alone; the others serve. */
class BrokenModelTest {
    @TempDir
    static Path repo;

    static ServerHarness harness;

    @BeforeAll
    static void start() throws IOException {
        copy(TestData.models().resolve("no_batch"), repo.resolve("no_batch"));
        // Valid YAML, wrong type: max_batch_size must be an integer.
        Path badConfig = repo.resolve("bad_config");
        copy(TestData.models().resolve("no_batch"), badConfig);
        Files.writeString(badConfig.resolve("config.yaml"), Files.readString(badConfig.resolve("config.yaml"))
                .replace("name: no_batch", "name: bad_config").replace("max_batch_size: 0", "max_batch_size: lots"));
        // Good config, a model file that is not TorchScript.
        Path badFile = repo.resolve("bad_file");
        copy(TestData.models().resolve("no_batch"), badFile);
        Files.writeString(badFile.resolve("config.yaml"),
                Files.readString(badFile.resolve("config.yaml")).replace("name: no_batch", "name: bad_file"));
        Files.writeString(badFile.resolve("1/model.pt"), "this is not a TorchScript archive");
        harness = new ServerHarness(repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void brokenModelsAreNotReadyAndSayWhy() {
        HttpResponse<String> badConfig = harness.get("/v2/models/bad_config/ready");
        assertThat(badConfig.statusCode()).isEqualTo(503);
        HttpResponse<String> badFile = harness.get("/v2/models/bad_file/versions/1/ready");
        assertThat(badFile.statusCode()).isEqualTo(503);

        HttpResponse<String> infer = harness.post("/v2/models/bad_config/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]}");
        assertThat(infer.statusCode()).isEqualTo(503);
        assertThat(ServerHarness.json(infer).get("error").asText()).contains("max_batch_size");

        HttpResponse<String> inferFile = harness.post("/v2/models/bad_file/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]}");
        assertThat(inferFile.statusCode()).isEqualTo(503);
        assertThat(ServerHarness.json(inferFile).get("error").asText()).contains("model.pt");
    }

    @Test
    void serverIsLiveButNotReady() {
        assertThat(harness.get("/v2/health/live").statusCode()).isEqualTo(200);
        assertThat(harness.get("/v2/health/ready").statusCode()).isEqualTo(503);
        HttpResponse<String> ping = harness.get("/ping");
        assertThat(ping.statusCode()).isEqualTo(500);
        assertThat(ServerHarness.json(ping).get("status").asText()).isEqualTo("Unhealthy");
    }

    @Test
    void healthDetailNamesEachBrokenModelAndWhy() {
        HttpResponse<String> response = harness.get("/health/detail");
        assertThat(response.statusCode()).isEqualTo(503);
        JsonNode detail = ServerHarness.json(response);
        assertThat(detail.get("ready").asBoolean()).isFalse();
        java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
        detail.get("models").forEach(v -> byName.put(v.get("name").asText(), v));
        assertThat(byName).containsOnlyKeys("bad_config", "bad_file", "no_batch");
        assertThat(byName.get("bad_config").get("state").asText()).isEqualTo("FAILED");
        assertThat(byName.get("bad_config").get("error").asText()).contains("max_batch_size");
        assertThat(byName.get("bad_file").get("state").asText()).isEqualTo("FAILED");
        assertThat(byName.get("bad_file").get("error").asText()).contains("model.pt");
        assertThat(byName.get("bad_file").get("instances")).isEmpty();
        assertThat(byName.get("no_batch").get("state").asText()).isEqualTo("READY");
        assertThat(byName.get("no_batch").get("error").isNull()).isTrue();
        assertThat(byName.get("no_batch").get("instances").get(0).get("healthy").asBoolean()).isTrue();
    }

    @Test
    void theGoodModelServes() {
        HttpResponse<String> response = harness.post("/v2/models/no_batch/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode y = ServerHarness.json(response).get("outputs").get(0).get("data");
        assertThat(y.get(0).asDouble()).isEqualTo(11.0);
        assertThat(harness.get("/v2/models/no_batch/ready").statusCode()).isEqualTo(200);
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(source -> {
                try {
                    Files.copy(source, to.resolve(from.relativize(source).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
