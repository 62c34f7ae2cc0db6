package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batching towards a latency target on the real server and engine: requests from several clients are
 * answered, and what the policy chose and learned shows in the statistics endpoint and the metrics,
 * for the learned policy and for AIMD.
 */
class LatencyTargetTest {
    @TempDir
    static Path repo;

    static ServerHarness harness;
    static URI metrics;

    @BeforeAll
    static void start() throws IOException {
        copy("mlp_target", "dynamic_batching: {latency_target_ms: 5}\n");
        copy("mlp_aimd", "dynamic_batching: {latency_target_ms: 5, latency_policy: aimd}\n");
        copy("mlp_fixed", "dynamic_batching: {}\n");
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, List.of(),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, 0, null, ManagementConfig.ephemeral(),
                SecurityConfig.defaults(), 0, HandlerConfig.defaults()));
        metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void theLearnedPolicyAnswersEveryClientAndShowsWhatItLearned() {
        load("mlp_target");

        JsonNode batching = stats("mlp_target").get("batching");
        assertThat(batching).as("the statistics carry the policy's state").isNotNull();
        assertThat(batching.get("policy").asText()).isEqualTo("latency_target");
        assertThat(batching.get("wait_style").asText()).isIn("eager", "patient");
        assertThat(batching.get("latency_target_us").asDouble()).isEqualTo(5000);
        assertThat(batching.get("chosen_batch_size").asDouble()).isGreaterThanOrEqualTo(1);
        JsonNode cost = batching.get("learned_costs").get(0);
        assertThat(cost.get("instance").asInt()).isZero();
        assertThat(cost.get("runs").asLong()).isPositive();
        assertThat(cost.get("by_batch_size_us").get("1").asDouble()).isPositive();
        assertThat(cost.get("by_batch_size_us").has("8")).as("up to max_batch_size").isTrue();

        Scrape s = scrape();
        String[] v = {"model", "mlp_target", "version", "1"};
        assertThat(s.value("torchlight_batch_latency_target_seconds", v)).isEqualTo(0.005);
        assertThat(s.value("torchlight_batch_observed_p99_seconds", v)).isPositive();
        assertThat(s.value("torchlight_batch_target_slack_seconds", v))
                .isEqualTo(0.005 - s.value("torchlight_batch_observed_p99_seconds", v), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(s.value("torchlight_batch_cost_seconds", "model", "mlp_target", "version", "1", "instance", "0",
                "batch_size", "1")).isPositive();
        assertThat(s.has("torchlight_batch_chosen_wait_seconds")).isTrue();
        assertThat(s.has("torchlight_batch_policy_info")).isTrue();
    }

    @Test
    void aimdShowsItsCap() {
        load("mlp_aimd");

        JsonNode batching = stats("mlp_aimd").get("batching");
        assertThat(batching.get("policy").asText()).isEqualTo("aimd");
        assertThat(batching.get("batch_size_cap").asInt()).isBetween(1, 64);
        assertThat(scrape().value("torchlight_batch_size_cap", "model", "mlp_aimd", "version", "1")).isBetween(1.0, 64.0);
    }

    @Test
    void fixedBatchingHasNoBatchingStateAndNoBatchingMetrics() {
        load("mlp_fixed");
        assertThat(stats("mlp_fixed").has("batching")).isFalse();
        assertThat(scrape().text.lines().filter(l -> l.contains("mlp_fixed")))
                .noneMatch(l -> l.startsWith("torchlight_batch_latency_target_seconds")
                        || l.startsWith("torchlight_batch_policy_info") || l.startsWith("torchlight_batch_cost_seconds"));
    }

    /** 8 clients, 40 requests each, one after another: every answer is a 200 with one row of two outputs. */
    private static void load(String model) {
        String body = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],\"data\":["
                + "0.5,".repeat(63) + "0.5]}]}";
        try (ExecutorService clients = Executors.newFixedThreadPool(8)) {
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                done.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 40; i++) {
                        HttpResponse<String> r = harness.post("/v2/models/" + model + "/infer", body);
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                        assertThat(ServerHarness.json(r).get("outputs").get(0).get("shape").toString()).isEqualTo("[1,2]");
                    }
                }, clients));
            }
            done.forEach(CompletableFuture::join);
        }
    }

    private static JsonNode stats(String model) {
        return ServerHarness.json(harness.get("/v2/models/" + model + "/stats")).get("model_stats").get(0);
    }

    private static Scrape scrape() {
        HttpResponse<String> r = harness.send(HttpRequest.newBuilder(metrics).GET());
        assertThat(r.statusCode()).isEqualTo(200);
        return new Scrape(r.body());
    }

    /** The demo mlp's version 2 under another name, with {@code batching} appended to its config. */
    private static void copy(String name, String batching) throws IOException {
        Path source = TestData.models().resolve("mlp");
        Path target = Files.createDirectories(repo.resolve(name).resolve("1"));
        Files.copy(source.resolve("2/model.pt"), target.resolve("model.pt"));
        String config = Files.readString(source.resolve("config.yaml")).replace("name: mlp", "name: " + name);
        Files.writeString(repo.resolve(name).resolve("config.yaml"), config + batching);
    }
}
