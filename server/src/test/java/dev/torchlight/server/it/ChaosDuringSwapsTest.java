package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos during swaps: while clients send requests without pause over REST v2 JSON, REST binary and
 * gRPC (some with timeouts that pass in the queue, some cancelled, some from clients that vanish
 * mid-body or before reading their answer), 100 new versions of {@code mlp} are loaded one after
 * another, each replacing the last. Every request the clients sent is accounted for: each got
 * exactly one answer, its own, from the weights of the version that says it answered (odd versions
 * carry mlp/1's weights, even ones mlp/2's), or a documented refusal (503, 504, gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED), none hung and none was a 500. The server's side agrees: it wrote exactly one
 * HTTP response per whole request (answers nobody read included) and none for a cut-off one, its
 * in-flight gauges return to zero, only the newest version is left, and it keeps answering.
 */
class ChaosDuringSwapsTest {
    private static final int SWAPS = 100;
    private static final long LAST = 1 + SWAPS;
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    /** Vanishing clients for the final check on the newest version, of each kind. */
    private static final int VANISHING = 10;

    @TempDir
    Path repo;
    @TempDir
    Path staging;

    @Test
    void aHundredSwapsUnderChaosAnswerEveryRequestExactlyOnce() throws Exception {
        Path model = Files.createDirectories(repo.resolve("mlp"));
        // Two instances and small batches with a short queue: batches form, the queue sometimes
        // fills (503) and short timeouts sometimes pass in it (504). Four warm-up sizes keep swaps quick.
        Files.writeString(model.resolve("config.yaml"), Files.readString(TestData.models().resolve("mlp/config.yaml"))
                .replace("max_batch_size: 64", "max_batch_size: 4")
                + "version_policy: {latest: 1}\n"
                + "dynamic_batching: {max_queue_delay_us: 500, max_queue_size: 4}\n"
                + "instance_group: [{count: 2, kind: CPU}]\n");
        addVersion(1);
        ServerConfig config = new ServerConfig("127.0.0.1", 0, repo, List.of("mlp"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, 0, null,
                new ManagementConfig("127.0.0.1", 0, ModelControl.EXPLICIT, Duration.ofSeconds(30),
                        Duration.ofSeconds(10)), SecurityConfig.defaults(), 0, HandlerConfig.defaults());
        ChaosClients.Expected expected = ChaosClients.Expected.load();
        ChaosLedger ledger = new ChaosLedger();
        try (ServerHarness harness = new ServerHarness(config)) {
            Scrape before = scrape(harness);
            AtomicBoolean stop = new AtomicBoolean();
            List<HttpClient> httpClients = new ArrayList<>();
            ManagedChannel grpc = GrpcEndpointsTest.channel(harness);
            List<Thread> clients = new ArrayList<>();
            try {
                for (int c = 0; c < 4; c++) {
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    httpClients.add(http);
                    Runnable client = switch (c) {
                        case 0 -> new ChaosClients.Json(http, harness.base, ledger, expected, stop);
                        case 1 -> new ChaosClients.Binary(http, harness.base, ledger, expected, stop);
                        case 2 -> new ChaosClients.Grpc(grpc, ledger, expected, stop);
                        default -> new ChaosClients.Disconnecting(http, harness.base, ledger, expected, stop);
                    };
                    clients.add(Thread.ofPlatform().name("chaos-client-" + c).start(client));
                }

                long start = System.nanoTime();
                for (long v = 2; v <= LAST; v++) {
                    addVersion(v);
                    var load = harness.manage("POST", "/v2/repository/models/mlp/load");
                    assertThat(load.statusCode()).as("swap to version %d: %s", v, load.body()).isEqualTo(200);
                    // Each version serves a correct answer before the next replaces it.
                    long version = v;
                    awaitTrue("version " + v + " answers", () -> ledger.newestVersion.get() >= version
                            || !ledger.failures.isEmpty());
                    assertThat(ledger.failures).as("failures by version %d", v).isEmpty();
                }
                long swapMillis = (System.nanoTime() - start) / 1_000_000;
                stop.set(true);
                for (Thread client : clients) {
                    client.join(DEADLINE);
                    assertThat(client.isAlive()).as("%s finished its last request", client.getName()).isFalse();
                }
                System.out.printf("chaos during swaps: %d swaps in %d ms%n%s", SWAPS, swapMillis, ledger);
            } finally {
                stop.set(true);
                httpClients.forEach(HttpClient::close);
                grpc.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }

            assertThat(ledger.failures).as("failures").isEmpty();
            assertEveryRequestHasOneOutcome(ledger);
            assertTheServerAnsweredEveryWholeRequestOnce(harness, before, ledger);
            assertNothingIsLeftInFlight(harness);
            assertOnlyTheNewestVersionIsLeft(harness);
            assertVanishingClientsAreCountedOnceByTheModel(harness, expected);
            assertItStillAnswersEveryProtocol(harness, expected);
        }
    }

    /** Each channel's clients sent requests, and each sent request has exactly one recorded outcome. */
    private static void assertEveryRequestHasOneOutcome(ChaosLedger ledger) {
        for (String channel : List.of("rest-json", "rest-binary", "grpc", "rest-abandoned")) {
            assertThat(ledger.sent(channel)).as("%s requests sent", channel).isPositive();
            assertThat(ledger.totalOutcomes(channel)).as("%s outcomes", channel).isEqualTo(ledger.sent(channel));
        }
        // Every kind of outcome the clients are built to provoke happened at least once.
        assertThat(ledger.outcomes("rest-json", "200")).isPositive();
        assertThat(ledger.outcomes("rest-binary", "200")).isPositive();
        assertThat(ledger.outcomes("grpc", "OK")).isPositive();
        assertThat(ledger.outcomes("rest-abandoned", ChaosClients.Disconnecting.CLOSED)).isPositive();
        assertThat(ledger.outcomes("rest-abandoned", ChaosClients.Disconnecting.CUT)).isPositive();
    }

    /**
     * The inference listener wrote one response per whole request: those the clients read, by
     * status, plus one for each request whose client closed before reading it; none for a cut-off
     * body, and no 500. Written answers to closed connections may still be on their way: poll.
     */
    private static void assertTheServerAnsweredEveryWholeRequestOnce(ServerHarness harness, Scrape before,
            ChaosLedger ledger) {
        Map<String, Long> read = new java.util.TreeMap<>();
        for (String channel : List.of("rest-json", "rest-binary")) {
            ledger.outcomes(channel).forEach((status, n) -> read.merge(status, n, Long::sum));
        }
        long readTotal = read.values().stream().mapToLong(Long::longValue).sum();
        long unread = ledger.outcomes("rest-abandoned", ChaosClients.Disconnecting.CLOSED);
        awaitTrue("the server's response count reaches the requests sent",
                () -> total(responses(harness, before)) >= readTotal + unread);
        Map<String, Double> written = responses(harness, before);
        assertThat(total(written)).as("responses written (read %s, plus %d unread)", read, unread)
                .isEqualTo(readTotal + unread);
        assertThat(written.keySet()).as("statuses written").isSubsetOf("200", "503", "504");
        read.forEach((status, n) -> assertThat(written.getOrDefault(status, 0.0))
                .as("responses with status %s", status).isGreaterThanOrEqualTo(n));
    }

    /** Nothing queued or running, no request body held, no connection open once the clients closed theirs. */
    private static void assertNothingIsLeftInFlight(ServerHarness harness) {
        String[] last = {"model", "mlp", "version", Long.toString(LAST)};
        awaitTrue("in-flight gauges at zero", () -> {
            Scrape s = scrape(harness);
            return s.value("torchlight_inflight_requests", last) == 0 && s.value("torchlight_queue_depth", last) == 0
                    && s.value("torchlight_http_inflight_body_bytes") == 0 && s.value("torchlight_http_connections") == 0;
        });
    }

    private static void assertOnlyTheNewestVersionIsLeft(ServerHarness harness) throws Exception {
        // A client of its own, closed at once: the harness's would keep its connection open for a while.
        JsonNode versions;
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            versions = TestData.JSON.readTree(http.send(HttpRequest.newBuilder(harness.base.resolve("/v2/models/mlp"))
                    .timeout(DEADLINE).build(), HttpResponse.BodyHandlers.ofString()).body()).get("versions");
        }
        assertThat(versions).as("latest 1: the replaced versions were released").hasSize(1);
        assertThat(versions.get(0).asLong()).isEqualTo(LAST);
    }

    /**
     * On the newest version, with nothing else running: requests whose clients closed before reading
     * reach the model once each and are answered (or refused, each once); cut-off ones never reach it.
     */
    private static void assertVanishingClientsAreCountedOnceByTheModel(ServerHarness harness,
            ChaosClients.Expected expected) throws IOException {
        Scrape before = scrape(harness);
        for (int i = 0; i < VANISHING; i++) {
            ChaosClients.Disconnecting.cutOff(harness.base, expected.json("cut-" + i, 0));
        }
        for (int i = 0; i < VANISHING; i++) {
            ChaosClients.Disconnecting.closeBeforeReading(harness.base, expected.json("gone-" + i, 0));
        }
        awaitTrue("the model counted the whole requests", () -> modelRequests(scrape(harness)) - modelRequests(before)
                >= VANISHING && total(responses(harness, before)) >= VANISHING);
        Scrape after = scrape(harness);
        assertThat(modelRequests(after) - modelRequests(before)).as("requests that reached the model")
                .isEqualTo(VANISHING);
        // Sent back to back, some find the short queue full: answered or refused, each once.
        Map<String, Double> written = responses(harness, before);
        assertThat(total(written)).as("responses written: %s", written).isEqualTo(VANISHING);
        assertThat(written.keySet()).isSubsetOf("200", "503");
        awaitTrue("in-flight back to zero", () -> scrape(harness).value("torchlight_inflight_requests", "model", "mlp",
                "version", Long.toString(LAST)) == 0 && scrape(harness).value("torchlight_http_connections") == 0);
    }

    private static void assertItStillAnswersEveryProtocol(ServerHarness harness, ChaosClients.Expected expected)
            throws Exception {
        ChaosLedger after = new ChaosLedger();
        AtomicBoolean stop = new AtomicBoolean();
        ManagedChannel grpc = GrpcEndpointsTest.channel(harness);
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            new ChaosClients.Json(http, harness.base, after, expected, stop).one(1);
            new ChaosClients.Binary(http, harness.base, after, expected, stop).one(1);
            new ChaosClients.Grpc(grpc, after, expected, stop).one(1);
        } finally {
            grpc.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        assertThat(after.failures).isEmpty();
        assertThat(after.outcomes("rest-json", "200") + after.outcomes("rest-binary", "200") + after.outcomes("grpc", "OK"))
                .isEqualTo(3);
        assertThat(after.newestVersion.get()).isEqualTo(LAST);
    }

    // --- helpers

    /** Version {@code v} with mlp/1's weights when odd, mlp/2's when even, renamed in whole. */
    private void addVersion(long v) throws IOException {
        Path folder = Files.createDirectories(staging.resolve(Long.toString(v)));
        Files.copy(TestData.models().resolve("mlp/" + (v % 2 == 0 ? 2 : 1) + "/model.pt"), folder.resolve("model.pt"));
        Files.move(folder, repo.resolve("mlp").resolve(Long.toString(v)), StandardCopyOption.ATOMIC_MOVE);
    }

    private static Scrape scrape(ServerHarness harness) {
        URI metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
        return new Scrape(harness.send(HttpRequest.newBuilder(metrics).GET()).body());
    }

    /** HTTP responses the inference listener wrote since {@code before}, by status code. */
    private static Map<String, Double> responses(ServerHarness harness, Scrape before) {
        Map<String, Double> now = scrape(harness).sumBy("torchlight_http_responses_total", "code");
        Map<String, Double> earlier = before.sumBy("torchlight_http_responses_total", "code");
        Map<String, Double> delta = new java.util.TreeMap<>();
        now.forEach((code, n) -> {
            double d = n - earlier.getOrDefault(code, 0.0);
            if (d != 0) {
                delta.put(code, d);
            }
        });
        return delta;
    }

    private static double total(Map<String, Double> counts) {
        return counts.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Requests that reached the newest version, whatever their outcome. */
    private static double modelRequests(Scrape s) {
        return total(s.sumBy("torchlight_requests_total", "outcome", "model", "mlp", "version", Long.toString(LAST)));
    }

    /** Polls {@code condition} until it holds, failing after {@link #DEADLINE}. */
    private static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": not within " + DEADLINE);
            }
            // Polling with a deadline; spinning would starve the server of CPU.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }
}
