package dev.torchlight.bench.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonResultWriterTest {
    @TempDir
    Path tmp;

    private static BenchReport withEverything() {
        LevelResult open = new LevelResult(null, 500.0, 4, 498.5, 1994.0, 0.5, 0.9, 2.5, 7.25, 12.0, 4985, 3,
                Map.of("timeout", 2L, "http_503", 1L), 17);
        return new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T09:00:00Z", Samples.HOST,
                "http://127.0.0.1:8080", "risk", "v2-json",
                List.of(Samples.closed(8, 12000.5, 0.66), open), "server went away after 3 s");
    }

    @Test
    void roundTripsEveryField() throws IOException {
        BenchReport report = withEverything();
        Path file = tmp.resolve("nested/run.json");

        JsonResultWriter.write(report, file);

        assertThat(JsonResultWriter.read(file)).isEqualTo(report);
    }

    @Test
    void usesTheIssuesKeysInItsOrderThenTheExtras() throws IOException {
        JsonNode json = new ObjectMapper().readTree(JsonResultWriter.toJson(withEverything()));

        assertThat(json.fieldNames()).toIterable().containsExactly(
                "tool", "version", "date", "host", "url", "model", "protocol", "results", "note");
        assertThat(json.get("host").fieldNames()).toIterable().containsExactly("cores", "cpu", "os", "java");
        assertThat(json.get("results").get(0).fieldNames()).toIterable().containsExactly(
                "concurrency", "rate", "throughput_rps", "items_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms",
                "max_ms", "requests", "errors", "batch_size", "errors_by_kind", "behind_schedule");
    }

    @Test
    void writesNullsAsNullAndErrorKindsSorted() throws IOException {
        JsonNode json = new ObjectMapper().readTree(JsonResultWriter.toJson(withEverything()));

        JsonNode closed = json.get("results").get(0);
        JsonNode open = json.get("results").get(1);
        assertThat(closed.get("rate").isNull()).isTrue();
        assertThat(open.get("concurrency").isNull()).isTrue();
        assertThat(open.get("rate").asDouble()).isEqualTo(500.0);
        assertThat(open.get("errors_by_kind").fieldNames()).toIterable().containsExactly("http_503", "timeout");
        assertThat(open.get("behind_schedule").asLong()).isEqualTo(17);
        assertThat(json.get("note").asText()).isEqualTo("server went away after 3 s");
    }

    @Test
    void readerIgnoresKeysItDoesNotKnow() throws IOException {
        String json = JsonResultWriter.toJson(withEverything()).replaceFirst("\\{", "{\"future_key\": [1, 2],");

        assertThat(JsonResultWriter.fromJson(json)).isEqualTo(withEverything());
    }
}
