package dev.torchlight.bench.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.result.BenchReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerformanceTablesTest {
    @TempDir
    Path tmp;

    @Test
    void overheadIsServerP50MinusRawP50InMicroseconds() {
        String md = PerformanceTables.markdown(Samples.standardRuns(), null, null);

        // 0.31 ms server - 0.068 ms raw
        assertThat(md).contains("| **server − raw (µs)** | **242** |")
                .contains("Server overhead: **242 µs** per request at concurrency 1 (server p50 0.310 ms − raw p50 0.068 ms)")
                .contains("| server (v2-json, concurrency 1) | 0.310 | 0.403 | 0.620 | 0.930 | 3100 |")
                .contains("| raw engine (batch 1, 1 thread) | 0.068 |");
    }

    @Test
    void batchingOnVersusOffShowsTheRatioAndTheBatchSizesTheServerFormed() throws Exception {
        Map<String, BenchReport> runs = new java.util.LinkedHashMap<>(Samples.standardRuns());
        runs.put("risk-batched-server", Samples.server("risk_batched",
                List.of(Samples.closed(1, 4000, 0.25), Samples.closed(64, 61500, 1.0))));
        JsonNode stats = JsonResultWriter.mapper().readTree("""
                {"model_stats": [{"name": "risk_batched", "version": "1", "inference_count": 1000,
                  "execution_count": 20,
                  "inference_stats": {"success": {"count": 1000, "ns": 2000000000},
                    "queue": {"count": 1000, "ns": 500000000},
                    "compute_infer": {"count": 20, "ns": 40000000}},
                  "batch_stats": [{"batch_size": 32, "compute_infer": {"count": 5, "ns": 5000000}},
                                  {"batch_size": 64, "compute_infer": {"count": 15, "ns": 35000000}}]}]}
                """);

        String md = PerformanceTables.markdown(runs, Map.of("risk-batched-server", stats), null, null);
        String section = md.substring(md.indexOf("### 4."), md.indexOf("### 5."));

        // 61500 / 20500 at concurrency 64
        assertThat(section).contains("| 64 | 20500 | 61500 | 3.00× |")
                .contains("1000 requests in 20 engine runs (50.0 rows per run)")
                .contains("waited 0.500 ms in the queue on average")
                .contains("| 64 | 15 | 75.0 % |");
        assertThat(md.substring(md.indexOf("### 5."))).contains("_Not run._");
    }

    @Test
    void protocolsAreComparedWithTheRawEngineAndWithJsonAndAtTheHighestConcurrency() {
        Map<String, BenchReport> runs = new java.util.LinkedHashMap<>(Samples.standardRuns());
        runs.put("resnet50-batched-server", Samples.server("resnet50_batched",
                List.of(Samples.closed(1, 20, 50), Samples.closed(8, 25, 300))));
        runs.put("resnet50-batched-v2-binary-server", Samples.withProtocol("v2-binary",
                Samples.server("resnet50_batched", List.of(Samples.closed(1, 22, 45), Samples.closed(8, 28, 280)))));
        runs.put("resnet50-batched-grpc-server", Samples.withProtocol("grpc",
                Samples.server("resnet50_batched", List.of(Samples.closed(1, 21, 47)))));

        String md = PerformanceTables.markdown(runs, null, null);
        String section = md.substring(md.indexOf("### 8."));

        // raw best 28 img/s (batch 8); JSON best 25
        assertThat(section).contains("| protocol | best img/s | at concurrency | p99 ms there | of raw best (28) | vs JSON |")
                .contains("| v2-json | 25 | 8 | 600 | 89 % | 1.00× | 25 | 600 |")
                .contains("| v2-binary | 28 | 8 | 560 | 100 % | 1.12× | 28 | 560 |")
                .contains("| grpc | 21 | 1 | 94.0 | 75 % | 0.84× |  |  |");
        assertThat(md.substring(md.indexOf("### 6."), md.indexOf("### 6b."))).contains("_Not run._");
    }

    @Test
    void protocolsAtTheSameOfferedRateAreListedRateByRate() {
        Map<String, BenchReport> runs = new java.util.LinkedHashMap<>(Samples.standardRuns());
        runs.put("risk-rate-server", Samples.server("risk", List.of(Samples.open(2000, 0.3), Samples.open(4000, 0.4))));
        runs.put("risk-rate-grpc-server", Samples.withProtocol("grpc",
                Samples.server("risk", List.of(Samples.open(2000, 0.35), Samples.open(4000, 0.5)))));

        String section = PerformanceTables.markdown(runs, null, null);
        section = section.substring(section.indexOf("### 6b."), section.indexOf("### 7."));

        assertThat(section).contains("| offered req/s | protocol | req/s | p50 ms | p90 ms | p99 ms |")
                .contains("| 2000 | v2-json | 2000 | 0.300 | 0.390 | 0.600 | 0.900 | 0 | 0 |")
                .contains("| 4000 | grpc | 4000 | 0.500 | 0.650 | 1.00 | 1.50 | 0 | 0 |");
        assertThat(section.indexOf("| 2000 | grpc")).isLessThan(section.indexOf("| 4000 | v2-json"));
    }

    @Test
    void riskComparesBestServerRequestsWithBestRawRowsAndListsEveryConcurrency() {
        String md = PerformanceTables.markdown(Samples.standardRuns(), null, null);
        String risk = md.substring(md.indexOf("### 2."), md.indexOf("### 3."));

        // 20500 / 54400 = 37.7 %
        assertThat(risk).contains("Best server: **20500 req/s** at concurrency 64 (p99 6.24 ms), **38 %** of the raw "
                        + "engine's best **54400 rows/s** (batch 64).")
                .contains("Best with p99 ≤ 10 ms: 20500 req/s at concurrency 64.")
                .contains("| 1 | 2400 | 0.417 | 0.542 | 0.833 | 1.25 | 0 | 4 % |")
                .contains("| 64 | 20500 | 3.12 | 4.06 | 6.24 | 9.37 | 0 | 38 % |")
                .contains("| 64 | 850 | 54400 | 1.17 | 1.29 | 1.76 | 2.34 |");
        assertThat(risk.lines().filter(l -> l.matches("\\| \\d+ \\| .* % \\|"))).hasSize(7);
    }

    @Test
    void resnetComparesImagesPerSecond() {
        String md = PerformanceTables.markdown(Samples.standardRuns(), null, null);

        assertThat(md.substring(md.indexOf("### 3."))).contains("Best server: **27.5 img/s** at concurrency 16")
                .contains("**98 %** of the raw engine's best **28 img/s** (batch 8)")
                .contains("No concurrency kept p99 within 10 ms.");
    }

    @Test
    void missingWorkloadsSayNotRunAndTheHeaderNamesCommitAndCommand() {
        Map<String, BenchReport> onlyRisk = Map.of("risk-server", Samples.riskServer());

        String md = PerformanceTables.markdown(onlyRisk, "abc1234", "bench/run.sh");

        assertThat(md).contains("- Commit: `abc1234`").contains("- Command: `bench/run.sh`")
                .contains("- Machine: Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores, Linux 6.1.0 amd64");
        assertThat(md.substring(md.indexOf("### 1."), md.indexOf("### 2."))).contains("_Not run._");
        assertThat(md.substring(md.indexOf("### 2."), md.indexOf("### 3."))).contains("| 64 | 20500 |")
                .doesNotContain("Best server");
        assertThat(md.substring(md.indexOf("### 3."))).contains("_Not run._");
    }

    @Test
    void mainCombinesTheRunDirectoryIntoJsonAndMarkdownBesideIt() throws IOException {
        Path dir = tmp.resolve("2026-11-25-host");
        for (Map.Entry<String, BenchReport> run : new TreeMap<>(Samples.standardRuns()).entrySet()) {
            JsonResultWriter.write(run.getValue(), dir.resolve(run.getKey() + ".json"));
        }

        PerformanceTables.main(new String[] {dir.toString(), "--commit", "abc1234", "--command", "bench/run.sh"});

        JsonNode combined = new ObjectMapper().readTree(tmp.resolve("2026-11-25-host.json").toFile());
        assertThat(combined.get("commit").asText()).isEqualTo("abc1234");
        assertThat(combined.get("runs").fieldNames()).toIterable().containsExactly("overhead-raw", "overhead-server",
                "resnet50-raw", "resnet50-server", "risk-raw", "risk-server");
        assertThat(JsonResultWriter.fromJson(combined.get("runs").get("risk-raw").toString()))
                .isEqualTo(Samples.riskRaw());
        assertThat(Files.readString(tmp.resolve("2026-11-25-host.md")))
                .isEqualTo(PerformanceTables.markdown(PerformanceTables.read(dir), "abc1234", "bench/run.sh"))
                .contains("**242 µs**");
        assertThat(PerformanceTables.read(dir).values()).containsAll(List.copyOf(Samples.standardRuns().values()));
    }
}
