package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weighted canaries on the real server with two real versions of {@code mlp}: the split over real
 * HTTP, stickiness over HTTP and gRPC, weights changed under load, a version that is not ready,
 * validation, and the split kept across a reload and shown in the description, statistics and metrics.
 */
class CanaryTest {
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";
    private static final String INFER = "/v2/models/mlp/infer";
    private static final int CLIENTS = 4;

    @TempDir
    static Path repo;

    static ServerHarness harness;

    @BeforeAll
    static void start() {
        TestData.copyModels(repo, "mlp");
        harness = start(repo);
    }

    /** Explicit model control (for the repository load), metrics on, management tokens on. */
    static ServerHarness start(Path repository) {
        return new ServerHarness(new ServerConfig("127.0.0.1", 0, repository, List.of("mlp"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, 0, null,
                new ManagementConfig("127.0.0.1", 0, ModelControl.EXPLICIT, Duration.ofSeconds(30),
                        Duration.ofSeconds(10)), SecurityConfig.defaults(), 0, HandlerConfig.defaults()));
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @AfterEach
    void rollBack() {
        assertStatus(manage(harness, "DELETE", "/models/mlp/traffic", null), 200);
    }

    // --- the split

    @Test
    void tenThousandRequestsOverHttpFollowTheWeights() throws Exception {
        assertStatus(manage(harness, "PUT", "/models/mlp/traffic", "{\"1\": 90, \"2\": 10}"), 200);
        Scrape before = scrape();
        AtomicLongArray versions = new AtomicLongArray(3);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000 / CLIENTS; i++) {
                    try {
                        HttpResponse<String> r = harness.post(INFER, ROW);
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                        } else {
                            versions.incrementAndGet(ServerHarness.json(r).get("model_version").asInt());
                        }
                    } catch (RuntimeException e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        for (Thread client : clients) {
            client.join();
        }
        assertThat(failures).isEmpty();
        assertThat(versions.get(1) + versions.get(2)).isEqualTo(10_000);
        assertThat(versions.get(1) / 100.0).as("percent on version 1").isBetween(88.0, 92.0);

        // Every routed request is counted against its version.
        Scrape after = scrape();
        for (int v = 1; v <= 2; v++) {
            String[] labels = {"model", "mlp", "version", Integer.toString(v), "outcome", "success"};
            Double earlier = before.find("torchlight_requests_total", labels);
            assertThat(after.value("torchlight_requests_total", labels) - (earlier == null ? 0 : earlier))
                    .as("version %d's requests", v).isEqualTo(versions.get(v));
        }
    }

    @Test
    void theSplitShowsInTheDescriptionStatisticsAndMetrics() throws IOException, InterruptedException {
        JsonNode set = ServerHarness.json(manage(harness, "PUT", "/models/mlp/traffic",
                "{\"weights\": {\"1\": 90, \"2\": 10}, \"sticky_header\": \"X-User-Id\"}"));
        assertThat(set.get("routing").asText()).isEqualTo("weighted");
        assertThat(set.get("weights").toString()).isEqualTo("{\"1\":90,\"2\":10}");
        assertThat(set.get("sticky_header").asText()).isEqualTo("x-user-id");
        assertThat(set.get("default_version").asText()).isEqualTo("2");
        assertThat(set.get("versions").findValuesAsText("effective_weight")).containsExactly("90", "10");
        assertThat(ServerHarness.json(manage(harness, "GET", "/models/mlp/traffic"))).isEqualTo(set);

        JsonNode described = ServerHarness.json(manage(harness, "GET", "/models/mlp/all"));
        assertThat(described.findValuesAsText("trafficWeight")).containsExactly("90", "10");
        assertThat(described.findValuesAsText("trafficEffectiveWeight")).containsExactly("90", "10");

        JsonNode stats = ServerHarness.json(harness.get("/v2/models/mlp/stats"));
        assertThat(stats.get("model_stats").findValuesAsText("traffic_weight")).containsExactly("90", "10");
        assertThat(stats.get("model_stats").findValuesAsText("traffic_effective_weight")).containsExactly("90", "10");

        Scrape metrics = scrape();
        assertThat(metrics.value("torchlight_model_traffic_weight", "model", "mlp", "version", "1")).isEqualTo(90);
        assertThat(metrics.value("torchlight_model_traffic_weight", "model", "mlp", "version", "2")).isEqualTo(10);
        assertThat(metrics.value("torchlight_model_traffic_effective_weight", "model", "mlp", "version", "2"))
                .isEqualTo(10);

        // Rolled back: no weights anywhere.
        JsonNode cleared = ServerHarness.json(manage(harness, "DELETE", "/models/mlp/traffic", null));
        assertThat(cleared.get("routing").asText()).isEqualTo("default");
        assertThat(cleared.get("weights")).isEmpty();
        assertThat(ServerHarness.json(manage(harness, "GET", "/models/mlp/all")).findValues("trafficWeight")).isEmpty();
        assertThat(scrape().find("torchlight_model_traffic_weight", "model", "mlp", "version", "1")).isNull();
    }

    @Test
    void requestsThatNameAVersionAreNotSplitAndOneHundredPercentIsARollback() {
        assertStatus(manage(harness, "PUT", "/models/mlp/traffic", "{\"1\": 100}"), 200);
        for (int i = 0; i < 50; i++) {
            assertThat(version(harness.post(INFER, ROW))).isEqualTo(1);
            assertThat(version(harness.post("/v2/models/mlp/versions/2/infer", ROW))).isEqualTo(2);
        }
        // TorchServe's paths take the split too, unless they name a version.
        HttpResponse<String> torchServe = harness.post("/predictions/mlp/2", "[" + "0.5,".repeat(63) + "0.5]");
        assertStatus(torchServe, 200);
        assertStatus(harness.post("/predictions/mlp", "[" + "0.5,".repeat(63) + "0.5]"), 200);
    }

    // --- stickiness

    @Test
    void theStickyHeaderKeepsOneCallerOnOneVersionOverHttpAndGrpc() throws InterruptedException {
        assertStatus(manage(harness, "PUT", "/models/mlp/traffic",
                "{\"weights\": {\"1\": 50, \"2\": 50}, \"sticky_header\": \"x-user-id\"}"), 200);
        Map<String, Integer> chosen = new HashMap<>();
        for (int user = 0; user < 60; user++) {
            String key = "user-" + user;
            for (int i = 0; i < 10; i++) {
                int v = version(harness.send(HttpRequest.newBuilder(harness.base.resolve(INFER))
                        .header("X-User-Id", key).POST(HttpRequest.BodyPublishers.ofString(ROW))));
                assertThat(chosen.computeIfAbsent(key, k -> v)).as("the version of %s", key).isEqualTo(v);
            }
        }
        long onOne = chosen.values().stream().filter(v -> v == 1).count();
        assertThat(onOne).as("users on version 1 of 60").isBetween(15L, 45L);

        ManagedChannel channel = GrpcEndpointsTest.channel(harness);
        try {
            for (int user = 0; user < 20; user++) {
                String key = "user-" + user;
                Metadata metadata = new Metadata();
                metadata.put(Metadata.Key.of("x-user-id", Metadata.ASCII_STRING_MARSHALLER), key);
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    assertThat(stub.modelInfer(grpcRow()).getModelVersion()).as("the gRPC version of %s", key)
                            .isEqualTo(Integer.toString(chosen.get(key)));
                }
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    // --- changes under load

    @Test
    void weightsChangedAHundredTimesUnderLoadDropNothing() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sent = new AtomicLong();
        AtomicLong answered = new AtomicLong();
        AtomicLongArray versions = new AtomicLongArray(3);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    sent.incrementAndGet();
                    try {
                        HttpResponse<String> r = harness.post(INFER, ROW);
                        if (r.statusCode() == 200) {
                            answered.incrementAndGet();
                            versions.incrementAndGet(ServerHarness.json(r).get("model_version").asInt());
                        } else {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (RuntimeException e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        try {
            for (int change = 0; change < 100; change++) {
                int one = change % 2 == 0 ? change : 100 - change;
                String body = change % 10 == 9 ? "{\"2\": 1}"
                        : "{\"1\": " + one + ", \"2\": " + (100 - one) + "}";
                assertStatus(manage(harness, "PUT", "/models/mlp/traffic", body), 200);
            }
        } finally {
            stop.set(true);
            for (Thread client : clients) {
                client.join();
            }
        }
        assertThat(failures).isEmpty();
        assertThat(answered.get()).isEqualTo(sent.get()).isPositive();
        assertThat(versions.get(1)).isPositive();
        assertThat(versions.get(2)).isPositive();
    }

    // --- readiness

    @Test
    void aVersionThatIsNotReadyGetsNoTrafficUntilItRecovers(@TempDir Path own) throws IOException {
        TestData.copyModels(own, "mlp");
        Path three = Files.createDirectories(own.resolve("mlp/3"));
        Files.writeString(three.resolve("model.pt"), "this is not a TorchScript archive");
        try (ServerHarness server = start(own)) {
            assertStatus(manage(server, "PUT", "/models/mlp/traffic", "{\"1\": 50, \"3\": 50}"), 200);
            JsonNode traffic = ServerHarness.json(manage(server, "GET", "/models/mlp/traffic"));
            assertThat(traffic.get("versions").findValuesAsText("ready")).containsExactly("true", "true", "false");
            assertThat(traffic.get("versions").findValuesAsText("effective_weight")).containsExactly("50", "0", "0");
            for (int i = 0; i < 200; i++) {
                assertThat(version(server.post(INFER, ROW))).isEqualTo(1);
            }

            // No weighted version ready: the default version (the newest ready one) takes everything.
            assertStatus(manage(server, "PUT", "/models/mlp/traffic", "{\"3\": 100}"), 200);
            for (int i = 0; i < 50; i++) {
                assertThat(version(server.post(INFER, ROW))).isEqualTo(2);
            }

            // Version 3 recovers: it takes its weight again, with no other change.
            Files.copy(own.resolve("mlp/2/model.pt"), three.resolve("model.pt"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertStatus(manage(server, "POST", "/v2/repository/models/mlp/load", null), 200);
            assertThat(ServerHarness.json(manage(server, "GET", "/models/mlp/traffic")).get("versions")
                    .findValuesAsText("effective_weight")).containsExactly("0", "0", "100");
            for (int i = 0; i < 50; i++) {
                assertThat(version(server.post(INFER, ROW))).isEqualTo(3);
            }
        }
    }

    // --- validation

    @Test
    void invalidSplitsAreRefusedNamingWhatIsWrong() {
        assertError("{\"1\": -1}", 400, "the weight of version 1 is -1; expected an integer from 0 to 1000000");
        assertError("{\"1\": 0, \"2\": 0}", 400, "no version has a positive weight");
        assertError("{\"7\": 10}", 400, "names version '7', which it does not have; expected one of its versions"
                + " [1, 2]");
        assertError("{\"1\": 1.5}", 400, "the weight of version '1' must be an integer from 0 to 1000000; got 1.5");
        assertError("{\"1\": \"ten\"}", 400, "must be an integer");
        assertError("{\"1\": 10000000000}", 400, "must be an integer");
        assertError("{}", 400, "names no version");
        assertError("[90, 10]", 400, "must be a JSON object");
        assertError("{\"1\": 90", 400, "not valid JSON");
        assertError("", 400, "is empty; expected a traffic split");
        assertError("{\"weights\": {\"1\": 1}, \"sticky_header\": \"x user\"}", 400,
                "sticky_header 'x user' is not a header name");
        assertError("{\"weights\": {\"1\": 1}, \"sticky\": \"x\"}", 400, "unknown field 'sticky'");
        assertError("{\"sticky_header\": \"x-user-id\"}", 400, "'weights' must be an object");

        assertStatus(manage(harness, "PUT", "/models/nope/traffic", "{\"1\": 1}"), 404);
        assertStatus(manage(harness, "GET", "/models/nope/traffic", null), 404);
        assertStatus(manage(harness, "POST", "/models/mlp/traffic", "{\"1\": 1}"), 405);
        HttpResponse<String> load = manage(harness, "POST", "/v2/repository/models/mlp/load",
                "{\"parameters\": {\"traffic\": {\"9\": 1}}}");
        assertStatus(load, 400);
        assertThat(ServerHarness.json(load).get("error").asText()).contains("names version '9'");
        assertStatus(manage(harness, "POST", "/v2/repository/models/mlp/load", "{\"parameters\": {\"traffic\": 5}}"),
                400);
        // Nothing refused changed anything.
        assertThat(ServerHarness.json(manage(harness, "GET", "/models/mlp/traffic")).get("routing").asText())
                .isEqualTo("default");
    }

    // --- persistence

    @Test
    void theSplitSurvivesAReloadOfItsVersions() throws IOException {
        // The repository extension sets a split as it loads the model.
        assertStatus(manage(harness, "POST", "/v2/repository/models/mlp/load",
                "{\"parameters\": {\"traffic\": {\"weights\": {\"1\": 70, \"2\": 30}, \"sticky_header\": \"x-user-id\"}}}"),
                200);
        for (int i = 0; i < 20; i++) {
            assertStatus(harness.post("/v2/models/mlp/versions/1/infer", ROW), 200);
        }
        assertThat(inferenceCount(1)).isGreaterThanOrEqualTo(20);

        // Version 1's file changes: the reload swaps in a fresh copy (its statistics start again) and
        // the split stays as it was.
        Path file = repo.resolve("mlp/1/model.pt");
        Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));
        assertStatus(manage(harness, "POST", "/v2/repository/models/mlp/load", null), 200);
        assertThat(inferenceCount(1)).isZero();
        JsonNode traffic = ServerHarness.json(manage(harness, "GET", "/models/mlp/traffic"));
        assertThat(traffic.get("weights").toString()).isEqualTo("{\"1\":70,\"2\":30}");
        assertThat(traffic.get("sticky_header").asText()).isEqualTo("x-user-id");

        // JSON null through the repository extension clears it, as DELETE does.
        assertStatus(manage(harness, "POST", "/v2/repository/models/mlp/load",
                "{\"parameters\": {\"traffic\": null}}"), 200);
        assertThat(ServerHarness.json(manage(harness, "GET", "/models/mlp/traffic")).get("routing").asText())
                .isEqualTo("default");
    }

    // --- helpers

    private static long inferenceCount(int version) {
        return ServerHarness.json(harness.get("/v2/models/mlp/versions/" + version + "/stats")).get("model_stats")
                .get(0).get("inference_count").asLong();
    }

    private static void assertError(String body, int status, String message) {
        HttpResponse<String> r = manage(harness, "PUT", "/models/mlp/traffic", body);
        assertStatus(r, status);
        assertThat(ServerHarness.json(r).get("error").asText()).as(body).contains(message);
    }

    private static void assertStatus(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    }

    private static int version(HttpResponse<String> r) {
        assertStatus(r, 200);
        return ServerHarness.json(r).get("model_version").asInt();
    }

    private static HttpResponse<String> manage(ServerHarness server, String method, String path) {
        return manage(server, method, path, null);
    }

    /** A management call with the management key and an optional JSON body. */
    private static HttpResponse<String> manage(ServerHarness server, String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.management.resolve(path))
                .header("Authorization", "Bearer " + server.server.keys().management())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        return server.send(request);
    }

    private static Scrape scrape() {
        URI metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
        return new Scrape(harness.send(HttpRequest.newBuilder(metrics).GET()).body());
    }

    private static ModelInferRequest grpcRow() {
        ByteBuffer row = ByteBuffer.allocate(64 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) {
            row.putFloat(0.5f);
        }
        return ModelInferRequest.newBuilder().setModelName("mlp")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                        .addShape(1).addShape(64))
                .addRawInputContents(com.google.protobuf.ByteString.copyFrom(row.array()))
                .build();
    }
}
