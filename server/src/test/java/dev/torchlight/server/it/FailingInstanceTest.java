package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.server.it.FaultInjectingEngine.Run;
import dev.torchlight.server.runtime.EngineFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instances that fail on demand, on the real server over the real engine ({@link FaultInjectingEngine}
 * makes a marked row fail its run). A request the model cannot run fails alone, with 500 and the
 * engine's message, while the requests batched with it are answered, and the instance is not blamed.
 * An instance killed mid-batch (a device fault) fails that batch's requests with 500, is loaded again
 * while the other instance answers everyone else, and then serves again: no other request is lost.
 */
class FailingInstanceTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    static Path repo;

    static FaultInjectingEngine engine;
    static ServerHarness harness;
    static ChaosClients.Expected expected;

    @BeforeAll
    static void start() throws IOException {
        // One instance that sends whatever is queued as soon as it is free: what waits behind a busy
        // instance runs as one batch.
        model("single", "dynamic_batching: {max_queue_delay_us: 0}\n");
        model("pair", "dynamic_batching: {max_queue_delay_us: 2000}\ninstance_group: [{count: 2, kind: CPU}]\n");
        engine = new FaultInjectingEngine(EngineFactory.create());
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE,
                0, null, ManagementConfig.ephemeral(), SecurityConfig.defaults(), 0, HandlerConfig.defaults()), engine);
        expected = ChaosClients.Expected.load();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void aRequestTheModelCannotRunFailsAloneAndTheRequestsBatchedWithItAreAnswered() throws Exception {
        engine.closeGate();
        CompletableFuture<HttpResponse<String>> gate = post("single", marked(FaultInjectingEngine.GATE));
        engine.awaitGateEntered();
        // Queued behind the gate, in this order: they run as one batch once it opens.
        List<CompletableFuture<HttpResponse<String>>> innocent = new ArrayList<>();
        innocent.add(post("single", expected.json("a", 0)));
        awaitQueued("single", 1);
        CompletableFuture<HttpResponse<String>> poisoned = post("single", marked(FaultInjectingEngine.POISON));
        awaitQueued("single", 2);
        innocent.add(post("single", expected.json("b", 0)));
        innocent.add(post("single", expected.json("c", 0)));
        awaitQueued("single", 4);
        int before = engine.runs("single").size();
        engine.openGate();

        assertThat(gate.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        HttpResponse<String> poison = poisoned.get(60, TimeUnit.SECONDS);
        assertThat(poison.statusCode()).as(poison.body()).isEqualTo(500);
        assertThat(ServerHarness.json(poison).get("error").asText())
                .isEqualTo("model single/1 failed: input row holds the poison marker");
        for (CompletableFuture<HttpResponse<String>> answer : innocent) {
            assertGolden(answer.get(60, TimeUnit.SECONDS));
        }

        // After the gate, the batch of all four (7 rows) failed; its halves ran again ([a, poisoned]
        // failed, [b, c] was answered), and the failing half's halves ([a] answered, [poisoned] failed).
        List<Run> runs = engine.runs("single").subList(before, engine.runs("single").size());
        assertThat(runs).map(Run::rows).containsExactly(1, 7, 3, 4, 2, 1);
        assertThat(runs).map(Run::failed).containsExactly(false, true, true, false, false, true);
        // One request's input is not the instance's fault: it is neither reloaded nor closer to it.
        JsonNode instance = instances("single").get(0);
        assertThat(instance.get("consecutive_failures").asInt()).isZero();
        assertThat(instance.get("reloads").asInt()).isZero();
        assertThat(engine.loads("single")).isEqualTo(1);
        assertGolden(post("single", expected.json("after", 0)).get(60, TimeUnit.SECONDS));
    }

    @Test
    void anInstanceKilledMidBatchIsReloadedWhileTheOtherAnswersEveryoneElse() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong answered = new AtomicLong();
        AtomicLong killedWithTheBatch = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            int client = c;
            clients.add(Thread.ofPlatform().name("pair-client-" + c).start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        HttpResponse<String> r = post("pair", expected.json(client + "-" + i, 0)).get(60, TimeUnit.SECONDS);
                        if (r.statusCode() == 200 && matches(r)) {
                            answered.incrementAndGet();
                        } else if (r.statusCode() == 500 && r.body().contains("the instance is being loaded again")) {
                            killedWithTheBatch.incrementAndGet();
                        } else {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        try {
            awaitTrue("answers before the kill", () -> answered.get() >= 20 || !failures.isEmpty());
            HttpResponse<String> killer = post("pair", marked(FaultInjectingEngine.KILL)).get(60, TimeUnit.SECONDS);
            assertThat(killer.statusCode()).as(killer.body()).isEqualTo(500);
            assertThat(ServerHarness.json(killer).get("error").asText()).isEqualTo("model pair/1 failed: CUDA error: an"
                    + " illegal memory access was encountered (the GPU's context is broken; the instance is being"
                    + " loaded again)");
            awaitTrue("the killed instance is reloaded", () -> engine.loads("pair") == 3
                    && instances("pair").findValuesAsText("healthy").equals(List.of("true", "true")));
            long atRecovery = answered.get();
            awaitTrue("answers after the reload", () -> answered.get() >= atRecovery + 20 || !failures.isEmpty());
        } finally {
            stop.set(true);
            for (Thread client : clients) {
                client.join(DEADLINE);
            }
        }
        assertThat(failures).isEmpty();
        List<Run> failed = engine.runs("pair").stream().filter(Run::failed).toList();
        assertThat(failed).as("one run failed: the one with the marked row").hasSize(1);
        // Only the requests that shared the killed run failed (2 rows each, beside the marked one).
        assertThat(killedWithTheBatch.get()).isEqualTo((failed.get(0).rows() - 1) / 2);
        System.out.printf("instance killed mid-batch: %d other requests answered, %d failed with the killed run%n",
                answered.get(), killedWithTheBatch.get());
        JsonNode instances = instances("pair");
        assertThat(instances.findValuesAsText("reloads")).containsExactlyInAnyOrder("0", "1");
        assertThat(instances.findValuesAsText("consecutive_failures")).containsExactly("0", "0");

        // Both instances serve: with one held at the gate, the other (whichever was reloaded) answers.
        engine.closeGate();
        CompletableFuture<HttpResponse<String>> gate = post("pair", marked(FaultInjectingEngine.GATE));
        engine.awaitGateEntered();
        assertGolden(post("pair", expected.json("beside-the-gate", 0)).get(60, TimeUnit.SECONDS));
        engine.openGate();
        assertThat(gate.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        List<Run> runs = engine.runs("pair");
        assertThat(runs.subList(runs.size() - 2, runs.size())).map(Run::serial).as("load serials of the last two runs")
                .contains(3);
    }

    // --- helpers

    /** mlp's version 1 (8 rows at most) as {@code name}, with {@code extra} config. */
    private static void model(String name, String extra) throws IOException {
        Path source = TestData.models().resolve("mlp");
        Path version = Files.createDirectories(repo.resolve(name).resolve("1"));
        Files.copy(source.resolve("1/model.pt"), version.resolve("model.pt"));
        Files.writeString(repo.resolve(name).resolve("config.yaml"), Files.readString(source.resolve("config.yaml"))
                .replace("name: mlp", "name: " + name).replace("max_batch_size: 64", "max_batch_size: 8") + extra);
    }

    /** A one-row request whose first element is {@code marker}. */
    private static String marked(float marker) {
        ObjectNode request = TestData.JSON.createObjectNode();
        ObjectNode input = request.putArray("inputs").addObject().put("name", "input").put("datatype", "FP32");
        input.putArray("shape").add(1).add(64);
        var data = input.putArray("data").add(marker);
        for (int i = 1; i < 64; i++) {
            data.add(0);
        }
        return request.toString();
    }

    private static CompletableFuture<HttpResponse<String>> post(String model, String body) {
        return harness.client.sendAsync(HttpRequest.newBuilder(harness.base.resolve("/v2/models/" + model + "/infer"))
                .timeout(DEADLINE).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static boolean matches(HttpResponse<String> r) {
        JsonNode data = ServerHarness.json(r).get("outputs").get(0).get("data");
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) data.get(i).asDouble();
        }
        return expected.matches(1, out);
    }

    private static void assertGolden(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(matches(r)).as("the golden outputs of mlp/1: %s", r.body()).isTrue();
    }

    /** The instances of {@code model}'s version 1 in {@code /health/detail}. */
    private static JsonNode instances(String model) {
        for (JsonNode version : ServerHarness.json(harness.get("/health/detail")).get("models")) {
            if (version.get("name").asText().equals(model)) {
                return version.get("instances");
            }
        }
        throw new AssertionError("no model " + model + " in /health/detail");
    }

    private static void awaitQueued(String model, int requests) {
        URI metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
        awaitTrue(requests + " queued", () -> new Scrape(harness.send(HttpRequest.newBuilder(metrics).GET()).body())
                .value("torchlight_queue_depth", "model", model, "version", "1") == requests);
    }

    /** Polls {@code condition} until it holds, failing after {@link #DEADLINE}. */
    private static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": not within " + DEADLINE);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }
}
