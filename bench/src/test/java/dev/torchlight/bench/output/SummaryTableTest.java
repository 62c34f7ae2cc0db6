package dev.torchlight.bench.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SummaryTableTest {
    @Test
    void rendersAFixedWidthRowPerLevel() {
        BenchReport report = Samples.server("risk", List.of(Samples.closed(1, 2400, 0.4166), Samples.closed(64, 20500, 3.1)));

        String table = SummaryTable.render(report);

        assertThat(table).isEqualTo("""
                model risk, protocol v2-json, http://127.0.0.1:40123, 2026-11-25T09:00:00Z
                level    req/s  items/s  p50 ms  p90 ms  p99 ms  p99.9 ms  max ms  errors
                conc 1    2400     2400   0.417   0.542   0.833      1.25    1.67       0
                conc 64  20500    20500    3.10    4.03    6.20      9.30    12.4       0
                """);
    }

    @Test
    void rawLevelsAreBatchSizesWithThreads() {
        LevelResult level = new LevelResult(2, null, 16, 1500, 24000, 0.66, 0.7, 1, 1.3, 2, 15000, 0, Map.of(), 0);

        String table = SummaryTable.render(Samples.raw("risk", List.of(level)));

        assertThat(table.lines().skip(2).findFirst().orElseThrow()).startsWith("batch 16 x2 thr").contains("24000");
    }

    @Test
    void openLoopAddsBehindAndListsErrorKindsAndTheNote() {
        LevelResult level = new LevelResult(null, 2000.0, 1, 1900, 1900, 1, 2, 3, 4, 5, 19000, 12,
                Map.of("timeout", 10L, "connect", 2L), 40);
        BenchReport report = new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T09:00:00Z", Samples.HOST,
                "http://h:1", "risk", "v2-json", List.of(level), "server went away");

        List<String> lines = SummaryTable.render(report).lines().toList();

        assertThat(lines.get(1)).endsWith("errors  behind");
        assertThat(lines.get(2)).startsWith("rate 2000/s").endsWith("12      40");
        assertThat(lines.get(3)).isEqualTo("rate 2000/s errors: connect 2, timeout 10");
        assertThat(lines.get(4)).isEqualTo("note: server went away");
    }
}
