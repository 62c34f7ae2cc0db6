package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Percentage.withPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.http.TestHttpServer;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator against a tiny in-test HTTP server; every run is a fraction of a second. */
class LoadBenchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METADATA = """
            {"name": "m", "versions": ["1"], "platform": "pytorch_torchscript",
             "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
             "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}]}""";
    private static final Duration WARMUP = Duration.ofMillis(100);
    private static final Duration DURATION = Duration.ofMillis(400);

    private final TestHttpServer server = new TestHttpServer().metadata(METADATA);
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

    @AfterEach
    void stopServer() {
        server.close();
    }

    @Test
    void aClosedLoopSweepMeasuresEachLevelAndSendsGeneratedBatches() throws Exception {
        BenchReport report = run(options().concurrency(List.of(1, 4)).batch(2));

        assertThat(report.tool()).isEqualTo("torchlight-bench");
        assertThat(report.version()).isEqualTo("test");
        assertThat(report.url()).isEqualTo(server.url().toString());
        assertThat(report.model()).isEqualTo("m");
        assertThat(report.protocol()).isEqualTo("v2-json");
        assertThat(report.note()).isNull();
        assertThat(report.results()).extracting(LevelResult::concurrency).containsExactly(1, 4);
        long measured = 0;
        for (LevelResult r : report.results()) {
            assertThat(r.rate()).isNull();
            assertThat(r.batchSize()).isEqualTo(2);
            assertThat(r.requests()).isPositive();
            assertThat(r.errors()).isZero();
            assertThat(r.errorsByKind()).isEmpty();
            assertThat(r.itemsPerS()).isEqualTo(r.throughputRps() * 2);
            // Throughput is over the measured window (0.4 s), give or take the scheduling of its end.
            assertThat(r.throughputRps()).isCloseTo(r.requests() / 0.4, withPercentage(25));
            assertThat(r.p50Ms()).isPositive().isLessThanOrEqualTo(r.p99Ms());
            assertThat(r.p99Ms()).isLessThanOrEqualTo(r.maxMs());
            measured += r.requests();
        }
        // Warm-up requests reach the server too, but are not measured.
        assertThat(server.requests()).isGreaterThan(measured);

        List<String> bodies = server.bodies();
        assertThat(server.uris()).allMatch(u -> u.equals("POST /v2/models/m/infer"));
        JsonNode input = JSON.readTree(bodies.get(0)).get("inputs").get(0);
        assertThat(input.get("name").asText()).isEqualTo("x");
        assertThat(input.get("shape").toString()).isEqualTo("[2,4]");
        assertThat(input.get("data")).hasSize(8);
        // One connection cycles through the pool of distinct bodies.
        assertThat(new HashSet<>(bodies)).hasSize(RequestPool.DISTINCT_BODIES);
    }

    @Test
    void withoutWarmUpEveryRequestTheServerSawIsCountedOnce() {
        LevelResult closed = single(run(options().concurrency(List.of(4)).warmup(Duration.ZERO)));
        assertThat(closed.errors()).isZero();
        assertThat(closed.requests()).isPositive().isEqualTo(server.requests());

        long before = server.requests();
        LevelResult open = single(run(options().rates(List.of(300.0)).warmup(Duration.ZERO)));
        assertThat(open.errors()).isZero();
        assertThat(open.requests()).isPositive().isEqualTo(server.requests() - before);
    }

    @Test
    void non2xxAnswersAreErrorsCountedByStatus() {
        server.mode(TestHttpServer.Mode.UNAVAILABLE);
        LevelResult r = single(run(options().concurrency(List.of(2))));
        assertThat(r.requests()).isPositive();
        assertThat(r.errors()).isEqualTo(r.requests());
        assertThat(r.errorsByKind()).isEqualTo(Map.of("http_503", r.requests()));
        assertThat(r.throughputRps()).isZero();
        assertThat(r.itemsPerS()).isZero();
    }

    @Test
    void connectionsClosedMidRequestAreErrorsOfKindClosed() {
        server.mode(TestHttpServer.Mode.CLOSE);
        LevelResult r = single(run(options().concurrency(List.of(2))));
        assertThat(r.requests()).isPositive();
        assertThat(r.errorsByKind()).isEqualTo(Map.of("closed", r.requests()));
        // Each slot waits 20 ms before it reconnects: no spin against a server that drops connections.
        long bound = 2 * ((WARMUP.toMillis() + DURATION.toMillis()) / ClosedLoopLevel.RECONNECT_DELAY.toMillis() + 2);
        assertThat(server.requests()).isLessThanOrEqualTo(bound);
    }

    @Test
    void aSlotRefusedWithRetryAfterWaitsBeforeItTriesAgain() {
        server.mode(TestHttpServer.Mode.SHED);
        LevelResult r = single(run(options().warmup(Duration.ZERO).concurrency(List.of(2))));
        assertThat(r.errorsByKind()).isEqualTo(Map.of("http_503", r.requests()));
        // Retry-After: 1 within a level shorter than a second: one try per slot.
        assertThat(DURATION).isLessThan(Duration.ofSeconds(1));
        assertThat(server.requests()).isEqualTo(2);
    }

    @Test
    void backoffFollowsRetryAfterUpToASecond() {
        assertThat(ClosedLoopLevel.backoff(-1)).isEqualTo(ClosedLoopLevel.RECONNECT_DELAY);
        assertThat(ClosedLoopLevel.backoff(0)).isEqualTo(Duration.ZERO);
        assertThat(ClosedLoopLevel.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(ClosedLoopLevel.backoff(120)).isEqualTo(ClosedLoopLevel.MAX_BACKOFF);
    }

    @Test
    void unansweredRequestsTimeOut() {
        server.mode(TestHttpServer.Mode.HANG);
        LevelResult r = single(run(options().concurrency(List.of(2)).requestTimeout(Duration.ofMillis(100))));
        assertThat(r.errorsByKind()).containsOnlyKeys("timeout");
        assertThat(r.errors()).isEqualTo(r.requests()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void anOpenLoopDropsIdleConnectionsTheServerClosedInsteadOfFailingOnThem() {
        // Every connection closes right after its answer, as idle connections do at the server's idle
        // timeout: the sends 25 ms apart each find their idle connection closed and open a new one. On a
        // loaded machine a close may still be on its way when the next send takes the connection (the
        // race every pooling client has), so a few such failures are allowed; without the check, every
        // send after the first failed.
        server.mode(TestHttpServer.Mode.OK_THEN_CLOSE);
        LevelResult r = single(run(options().rates(List.of(40.0)).duration(Duration.ofMillis(500))
                .warmup(Duration.ZERO)));
        assertThat(r.requests()).isGreaterThanOrEqualTo(10);
        assertThat(r.errors()).as(r.errorsByKind().toString()).isLessThanOrEqualTo(r.requests() / 5);
    }

    @Test
    void anOpenLoopOutOfConnectionsQueuesItsSendsAndFailsThoseNotMadeInTimeAsTimeouts() {
        // Two connections whose requests are never answered: the pacer's later sends queue on its
        // event loop and fail once they are older than the request timeout; none is lost.
        server.mode(TestHttpServer.Mode.HANG);
        LevelResult r = single(run(options().rates(List.of(100.0)).connections(2).warmup(Duration.ZERO)
                .duration(Duration.ofMillis(500)).requestTimeout(Duration.ofMillis(150))));
        assertThat(r.errorsByKind()).containsOnlyKeys("timeout");
        assertThat(r.errors()).isEqualTo(r.requests()).isGreaterThanOrEqualTo(30);
    }

    @Test
    void anOpenLoopSendsAtTheRate() {
        LevelResult r = single(run(options().rates(List.of(200.0)).duration(Duration.ofMillis(500))));
        assertThat(r.rate()).isEqualTo(200.0);
        assertThat(r.concurrency()).isNull();
        assertThat(r.errors()).isZero();
        // 100 sends are due in the window; allow for a loaded test machine.
        assertThat(r.requests()).isBetween(60L, 140L);
        assertThat(r.behindSchedule()).isLessThan(r.requests());
    }

    @Test
    void aServerThatGoesAwayEndsTheRunWithANoteAndThePartialResult() throws Exception {
        LoadBench bench = new LoadBench("test", NanoClock.SYSTEM, Duration.ofMillis(300));
        LoadOptions options = options().concurrency(List.of(4, 8)).warmup(Duration.ZERO)
                .duration(Duration.ofSeconds(30)).build();
        CompletableFuture<BenchReport> running =
                CompletableFuture.supplyAsync(() -> bench.run(options, new PrintStream(progress, true, StandardCharsets.UTF_8)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.requests() < 200 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(server.requests()).isGreaterThanOrEqualTo(200);
        server.stop();

        BenchReport report = running.get(10, TimeUnit.SECONDS);
        assertThat(report.note()).startsWith("server at " + server.url() + " stopped answering at ")
                .endsWith(" s: connection refused");
        LevelResult r = single(report);
        assertThat(r.concurrency()).isEqualTo(4);
        assertThat(r.requests() - r.errors()).isPositive();
        assertThat(r.errorsByKind()).containsKey("connect");
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains(report.note());
    }

    @Test
    void withoutMetadataTheRunAsksForAnInputFile() {
        server.metadata(null);
        assertThatThrownBy(() -> run(options().concurrency(List.of(1))))
                .isInstanceOf(LoadBenchException.class)
                .hasMessageContaining("/v2/models/m")
                .hasMessageContaining("HTTP 404")
                .hasMessageContaining("--input-file");
    }

    @Test
    void anInputFileIsSentAsIs(@TempDir Path dir) throws Exception {
        server.metadata(null);
        Path file = Files.writeString(dir.resolve("body.json"), "[[1, 2, 3]]");
        LevelResult r = single(run(options().protocol(Protocol.TORCHSERVE).modelVersion("3").inputFile(file)
                .concurrency(List.of(1))));
        assertThat(r.errors()).isZero();
        assertThat(server.bodies()).isNotEmpty().allMatch(b -> b.equals("[[1, 2, 3]]"));
        assertThat(server.uris()).allMatch(u -> u.equals("POST /predictions/m/3"));
    }

    @Test
    void theHealthProtocolNeedsNoModel() {
        server.metadata(null);
        BenchReport report = run(LoadOptions.builder(server.url(), null).protocol(Protocol.HEALTH)
                .concurrency(List.of(2)).warmup(WARMUP).duration(DURATION));
        assertThat(single(report).errors()).isZero();
        assertThat(report.protocol()).isEqualTo("health");
        assertThat(report.model()).isEmpty();
        assertThat(server.uris()).allMatch(u -> u.equals("GET /v2/health/live"));
    }

    @Test
    void aReplaySendsTheRecordedRequestsInOrderAndCyclesWithoutReadingMetadata(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("stream.jsonl"),
                List.of(ReplayFileTest.request(1, 1f), ReplayFileTest.request(2, 2f), ReplayFileTest.request(3, 3f)));

        // One connection, so that the server sees the requests in the order they were sent.
        LevelResult r = single(run(options().rates(List.of(100.0)).connections(1).warmup(Duration.ZERO)
                .replayFile(file)));

        assertThat(r.errors()).isZero();
        assertThat(r.requests()).isGreaterThan(4);
        assertThat(server.uris()).allMatch(u -> u.equals("POST /v2/models/m/infer"));
        List<String> ids = server.bodies().stream().limit(5)
                .map(b -> readTree(b).get("inputs").get(0).get("data").toString()).toList();
        assertThat(ids).containsExactly("[1,101]", "[2,102]", "[3,103]", "[1,101]", "[2,102]");
        assertThat(readTree(server.bodies().get(1)).get("inputs").get(1).get("data").toString())
                .isEqualTo("[2.0,0.5,-2.0]");
    }

    @Test
    void onlyTheFirstLevelWarmsUpForTheFirstWarmUp() {
        BenchReport report = run(options().rates(List.of(200.0, 200.0)).firstWarmup(Duration.ofMillis(600))
                .warmup(Duration.ZERO));

        long measured = report.results().stream().mapToLong(LevelResult::requests).sum();
        // About 120 sends in the first level's 600 ms warm-up and none before the second's measurement,
        // where a warm-up of both levels would be about 240: wide bounds for a busy machine.
        assertThat(report.results()).allMatch(r -> r.errors() == 0);
        assertThat(server.requests() - measured).isBetween(60L, 200L);
    }

    @Test
    void aRateSweepEndsAtTheFirstRateAboveTheObjective() {
        server.mode(TestHttpServer.Mode.UNAVAILABLE); // every answer an error: no rate meets any objective

        BenchReport report = run(options().rates(List.of(100.0, 200.0, 300.0)).stopAboveP99Ms(1000.0));

        assertThat(report.results()).extracting(LevelResult::rate).containsExactly(100.0);
        assertThat(report.note()).isNull();
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("above --stop-above-p99 1000.0 ms");
    }

    private static JsonNode readTree(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private LoadOptions.Builder options() {
        return LoadOptions.builder(server.url(), "m").warmup(WARMUP).duration(DURATION);
    }

    private BenchReport run(LoadOptions.Builder options) {
        return new LoadBench("test").run(options.build(), new PrintStream(progress, true, StandardCharsets.UTF_8));
    }

    private static LevelResult single(BenchReport report) {
        assertThat(report.results()).hasSize(1);
        return report.results().get(0);
    }
}
