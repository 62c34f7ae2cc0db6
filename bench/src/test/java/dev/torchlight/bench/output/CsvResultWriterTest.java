package dev.torchlight.bench.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvResultWriterTest {
    @TempDir
    Path tmp;

    @Test
    void headerThenOneRowPerLevel() throws IOException {
        BenchReport report = Samples.riskServer();
        Path file = tmp.resolve("out/run.csv");

        CsvResultWriter.write(report, file);

        String csv = Files.readString(file);
        assertThat(csv).endsWith("\r\n");
        String[] lines = csv.split("\r\n");
        assertThat(lines).hasSize(1 + report.results().size());
        assertThat(lines[0]).isEqualTo("tool,version,date,host_cores,host_cpu,host_os,host_java,url,model,protocol,"
                + "concurrency,rate,throughput_rps,items_per_s,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,requests,errors,"
                + "batch_size,errors_by_kind,behind_schedule,note");
        assertThat(lines[1].split(",", -1)).hasSize(CsvResultWriter.HEADER.size());
        assertThat(lines[1]).startsWith("torchlight-bench,0.1.0,2026-11-25T09:00:00Z,2,").contains(",risk,v2-json,1,,2400,2400,");
    }

    @Test
    void quotesFieldsWithCommasQuotesAndLineBreaksAndLeavesNullsEmpty() {
        LevelResult level = new LevelResult(null, 250.5, 1, 250, 250, 1, 2, 3, 4, 5, 2500, 3,
                Map.of("http_503", 1L, "connect", 2L), 9);
        BenchReport report = new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T09:00:00Z",
                new HostInfo(4, "Intel(R) Xeon(R), \"Gold\"", "Linux", "Java 21"), "http://h:1", "risk", "torchserve",
                List.of(level), "stopped:\nserver went away");

        String row = CsvResultWriter.toCsv(report).split("\r\n", 2)[1];

        assertThat(row).isEqualTo("torchlight-bench,0.1.0,2026-11-25T09:00:00Z,4,\"Intel(R) Xeon(R), \"\"Gold\"\"\","
                + "Linux,Java 21,http://h:1,risk,torchserve,,250.5,250,250,1,2,3,4,5,2500,3,1,connect=2;http_503=1,9,"
                + "\"stopped:\nserver went away\"\r\n");
    }

    @Test
    void severalReportsShareOneHeader() {
        String csv = CsvResultWriter.toCsv(List.of(Samples.riskServer(), Samples.riskRaw()));

        assertThat(csv.split("\r\n")).hasSize(1 + 7 + 5);
        assertThat(csv.lines().filter(l -> l.startsWith("tool,"))).hasSize(1);
    }
}
