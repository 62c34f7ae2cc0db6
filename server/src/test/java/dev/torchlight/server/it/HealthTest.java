package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness follows the models: when a serving model's only instance breaks (its runs keep failing
 * and reloading it fails too), /v2/health/ready, /ping and the readiness metric turn false and
 * /health/detail says which model and why; once the model loads again, all turn back.
 */
class HealthTest {
    /** Indices far outside the embedding table: every run of the model fails in libtorch. */
    static final String OUT_OF_RANGE = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,5],"
            + "\"data\":[1000,1001,1002,1003,1004]}]}";

    @TempDir
    static Path repo;

    static ServerHarness harness;

    @BeforeAll
    static void start() throws IOException {
        copy(TestData.models().resolve("embedding_bag"), repo.resolve("embedding_bag"));
        // A warm-up sample on disk: an instance whose batches keep failing re-runs it before it is
        // reloaded, and a broken model fails it too.
        Path bag = repo.resolve("embedding_bag");
        Files.createDirectories(bag.resolve("warmup"));
        Files.write(bag.resolve("warmup/ids.bin"), java.nio.ByteBuffer.allocate(5 * 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(2).putLong(3).putLong(4).putLong(5)
                .array());
        Files.writeString(bag.resolve("config.yaml"), Files.readString(bag.resolve("config.yaml"))
                + "warmup:\n  - ids: {shape: [1, 5], file: warmup/ids.bin}\n");
        copy(TestData.models().resolve("no_batch"), repo.resolve("no_batch"));
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, List.of(),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, 0, null, ManagementConfig.ephemeral(), SecurityConfig.defaults(), 0, dev.torchlight.config.HandlerConfig.defaults()));
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void readinessFlipsWhenAModelBreaksAndBackWhenItRecovers() throws IOException {
        assertThat(harness.get("/v2/health/ready").statusCode()).isEqualTo(200);
        assertThat(harness.get("/ping").statusCode()).isEqualTo(200);
        JsonNode healthy = ServerHarness.json(harness.get("/health/detail"));
        assertThat(healthy.get("ready").asBoolean()).isTrue();
        assertThat(version(healthy, "embedding_bag").get("state").asText()).isEqualTo("READY");
        assertThat(version(healthy, "embedding_bag").get("instances").get(0).get("healthy").asBoolean()).isTrue();
        assertThat(readyGauge()).isEqualTo(1);

        // The model's files go bad on disk (its warm-up sample too), then five runs fail in a row: the
        // instance cannot run its warm-up input, so it is reloaded from the bad file, which fails, and
        // the model has no healthy instance.
        Path file = repo.resolve("embedding_bag/1/model.pt");
        byte[] good = Files.readAllBytes(file);
        Files.writeString(file, "not a TorchScript archive any more");
        Path sample = repo.resolve("embedding_bag/warmup/ids.bin");
        byte[] goodSample = Files.readAllBytes(sample);
        Files.delete(sample);
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = harness.post("/v2/models/embedding_bag/infer", OUT_OF_RANGE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
        }
        awaitTrue(() -> harness.get("/v2/health/ready").statusCode() == 503, "readiness turns false");
        HttpResponse<String> ping = harness.get("/ping");
        assertThat(ping.statusCode()).isEqualTo(500);
        assertThat(ServerHarness.json(ping).get("status").asText()).isEqualTo("Unhealthy");
        HttpResponse<String> detail = harness.get("/health/detail");
        assertThat(detail.statusCode()).isEqualTo(503);
        JsonNode broken = ServerHarness.json(detail);
        assertThat(broken.get("ready").asBoolean()).isFalse();
        JsonNode bag = version(broken, "embedding_bag");
        assertThat(bag.get("state").asText()).isEqualTo("LOADING");
        assertThat(bag.get("ready").asBoolean()).isFalse();
        assertThat(bag.get("error").asText()).contains("not ready");
        assertThat(bag.get("instances").get(0).get("healthy").asBoolean()).isFalse();
        assertThat(version(broken, "no_batch").get("state").asText()).isEqualTo("READY");
        assertThat(readyGauge()).isZero();
        assertThat(harness.get("/v2/models/no_batch/ready").statusCode()).isEqualTo(200);

        // The files are mended: the next reload attempt brings the model, and readiness, back.
        Files.write(sample, goodSample);
        Files.write(file, good);
        awaitTrue(() -> harness.get("/v2/health/ready").statusCode() == 200, "readiness turns true again");
        assertThat(harness.get("/ping").statusCode()).isEqualTo(200);
        JsonNode recovered = version(ServerHarness.json(harness.get("/health/detail")), "embedding_bag");
        assertThat(recovered.get("state").asText()).isEqualTo("READY");
        assertThat(recovered.get("instances").get(0).get("reloads").asLong()).isEqualTo(1);
        assertThat(readyGauge()).isEqualTo(1);
    }

    @Test
    void healthDetailAnswersOnlyGet() {
        HttpResponse<String> post = harness.post("/health/detail", "{}");
        assertThat(post.statusCode()).isEqualTo(405);
    }

    private static double readyGauge() {
        URI metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
        HttpResponse<String> r = harness.send(HttpRequest.newBuilder(metrics).GET());
        return new Scrape(r.body()).value("torchlight_model_ready", "model", "embedding_bag", "version", "1");
    }

    private static JsonNode version(JsonNode detail, String model) {
        for (JsonNode v : detail.get("models")) {
            if (v.get("name").asText().equals(model)) {
                return v;
            }
        }
        throw new AssertionError("no model " + model + " in " + detail);
    }

    /** Polls {@code condition} until it holds, for up to 30 s (reload retries back off from 100 ms). */
    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
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
