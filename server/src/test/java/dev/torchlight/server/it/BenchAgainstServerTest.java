package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.bench.load.LoadBench;
import dev.torchlight.bench.load.LoadOptions;
import dev.torchlight.bench.load.Protocol;
import dev.torchlight.bench.output.JsonResultWriter;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator against the real server: the file has the documented shape and the counts agree. */
class BenchAgainstServerTest {
    static ServerHarness harness;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void oneSecondOfLoadIsCountedLikeTheServerCountsIt(@TempDir Path dir) throws Exception {
        for (Protocol protocol : List.of(Protocol.V2_JSON, Protocol.TORCHSERVE)) {
            long before = serverSuccesses();
            LoadOptions options = LoadOptions.builder(harness.base, "mlp")
                    .protocol(protocol)
                    .concurrency(List.of(2))
                    .warmup(Duration.ZERO) // every request sent is then a measured one
                    .duration(Duration.ofSeconds(1))
                    .build();
            ByteArrayOutputStream progress = new ByteArrayOutputStream();

            BenchReport report = new LoadBench("test").run(options, new PrintStream(progress, true, StandardCharsets.UTF_8));

            LevelResult level = report.results().get(0);
            assertThat(level.errors()).as(progress.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(level.requests()).isPositive();
            assertThat(serverSuccesses() - before).as("server's own count for " + protocol).isEqualTo(level.requests());

            Path file = dir.resolve(protocol.wireName() + ".json");
            JsonResultWriter.write(report, file);
            JsonNode json = TestData.JSON.readTree(file.toFile());
            assertThat(json.fieldNames()).toIterable().contains(
                    "tool", "version", "date", "host", "url", "model", "protocol", "results");
            assertThat(json.get("host").fieldNames()).toIterable().contains("cores", "cpu", "os", "java");
            assertThat(json.get("protocol").asText()).isEqualTo(protocol.wireName());
            assertThat(json.get("results").get(0).fieldNames()).toIterable().contains(
                    "concurrency", "rate", "throughput_rps", "items_per_s", "p50_ms", "p90_ms", "p99_ms",
                    "p999_ms", "max_ms", "requests", "errors");
            assertThat(json.get("results").get(0).get("requests").asLong()).isEqualTo(level.requests());
        }
    }

    @Test
    void binaryAndGrpcProtocolsAreCountedLikeTheServerCountsThem() throws Exception {
        URI grpc = URI.create("http://127.0.0.1:" + harness.server.grpcAddress().getPort());
        for (Protocol protocol : List.of(Protocol.V2_BINARY, Protocol.GRPC, Protocol.GRPC_STREAM)) {
            long before = serverSuccesses();
            LoadOptions options = LoadOptions.builder(protocol.wireName().startsWith("grpc") ? grpc : harness.base, "mlp")
                    .protocol(protocol)
                    .concurrency(List.of(2))
                    .warmup(Duration.ZERO)
                    .duration(Duration.ofSeconds(1))
                    .build();
            ByteArrayOutputStream progress = new ByteArrayOutputStream();

            BenchReport report = new LoadBench("test").run(options, new PrintStream(progress, true, StandardCharsets.UTF_8));

            LevelResult level = report.results().get(0);
            assertThat(level.errors()).as(protocol + ": " + progress.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(level.requests()).as(protocol.wireName()).isPositive();
            assertThat(serverSuccesses() - before).as("server's own count for " + protocol).isEqualTo(level.requests());
        }
    }

    @Test
    void grpcUnaryAndStreamingRunAnOpenLoopAtAGivenRate() throws Exception {
        URI grpc = URI.create("http://127.0.0.1:" + harness.server.grpcAddress().getPort());
        for (Protocol protocol : List.of(Protocol.GRPC, Protocol.GRPC_STREAM)) {
            long before = serverSuccesses();
            LoadOptions options = LoadOptions.builder(grpc, "mlp")
                    .protocol(protocol)
                    .rates(List.of(200.0))
                    .warmup(Duration.ZERO)
                    .duration(Duration.ofSeconds(1))
                    .build();

            BenchReport report = new LoadBench("test").run(options, new PrintStream(new ByteArrayOutputStream(),
                    true, StandardCharsets.UTF_8));

            LevelResult level = report.results().get(0);
            assertThat(level.rate()).isEqualTo(200.0);
            assertThat(level.errors()).as(protocol.wireName()).isZero();
            assertThat(level.requests()).as("about 200 sends in 1 s over " + protocol.wireName())
                    .isBetween(150L, 250L);
            assertThat(serverSuccesses() - before).as("the server's own count for " + protocol.wireName())
                    .isEqualTo(level.requests());
        }
    }

    @Test
    void aRecordedStreamIsReplayedOverEveryProtocolAndTheServerTakesEveryRequest(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            lines.add("{\"id\":\"r" + i + "\",\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                    + "\"data\":[" + i + ",1,2,3]},{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                    + "\"data\":[0.5,0.25," + i + ",-1]}]}");
        }
        Path stream = Files.write(dir.resolve("stream.jsonl"), lines);
        URI grpc = URI.create("http://127.0.0.1:" + harness.server.grpcAddress().getPort());
        for (Protocol protocol : List.of(Protocol.V2_JSON, Protocol.V2_BINARY, Protocol.GRPC, Protocol.GRPC_STREAM)) {
            long before = serverSuccesses("two_io");
            LoadOptions options = LoadOptions.builder(protocol.wireName().startsWith("grpc") ? grpc : harness.base,
                            "two_io")
                    .protocol(protocol)
                    .replayFile(stream)
                    .rates(List.of(200.0))
                    .warmup(Duration.ZERO)
                    .duration(Duration.ofSeconds(1))
                    .build();
            ByteArrayOutputStream progress = new ByteArrayOutputStream();

            BenchReport report = new LoadBench("test").run(options, new PrintStream(progress, true, StandardCharsets.UTF_8));

            LevelResult level = report.results().get(0);
            // Every recorded request is one the server takes: a wrong encoding would be a 400.
            assertThat(level.errors()).as(protocol + ": " + progress.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(level.rate()).isEqualTo(200.0);
            assertThat(level.requests()).as(protocol.wireName()).isPositive();
            assertThat(serverSuccesses("two_io") - before).as("the server's own count for " + protocol.wireName())
                    .isEqualTo(level.requests());
        }
    }

    private static long serverSuccesses() {
        return serverSuccesses("mlp");
    }

    private static long serverSuccesses(String model) {
        return ServerHarness.json(harness.get("/v2/models/" + model + "/stats")).get("model_stats").findValues("success").stream()
                .mapToLong(s -> s.get("count").asLong())
                .sum();
    }
}
