package dev.torchlight.bench.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.output.JsonResultWriter;
import dev.torchlight.bench.output.Samples;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void writesOneSelfContainedFileWithChartJsInlined() throws IOException {
        Path file = HtmlReport.write(tmp.resolve("report"), List.of(Samples.riskServer(), Samples.riskRaw()));

        assertThat(file).isEqualTo(tmp.resolve("report/index.html"));
        assertThat(tmp.resolve("report")).isDirectoryContaining(p -> p.equals(file));
        String html = Files.readString(file);
        assertThat(html).startsWith("<!doctype html>").contains("Chart.js v4.4.1").contains("window.Chart=")
                .doesNotContain("sourceMappingURL");
        // Nothing is fetched: every script and style is inline.
        assertThat(html).doesNotContainPattern("<script[^>]*\\ssrc=").doesNotContainPattern("<link[^>]*\\shref=")
                .doesNotContainPattern("(?i)(src|href)\\s*=\\s*[\"']?(https?:)?//").doesNotContain("@import");
    }

    @Test
    void inlinesTheResultsAsJsonThatReadsBack() throws IOException {
        List<BenchReport> reports = List.of(Samples.riskServer(), Samples.riskRaw());
        String html = HtmlReport.render(reports);

        JsonNode data = JSON.readTree(element(html, "bench-data"));

        assertThat(data).hasSize(2);
        assertThat(JsonResultWriter.fromJson(data.get(0).toString())).isEqualTo(Samples.riskServer());
        assertThat(JsonResultWriter.fromJson(data.get(1).toString())).isEqualTo(Samples.riskRaw());
    }

    @Test
    void serverAndRawShareTheirCharts() throws IOException {
        JsonNode charts = JSON.readTree(element(HtmlReport.render(List.of(Samples.riskServer(), Samples.riskRaw())),
                "chart-specs"));

        assertThat(charts.findValuesAsText("id"))
                .containsExactly("throughput-concurrency", "items-batch", "latency-throughput");
        JsonNode throughput = charts.get(0);
        assertThat(throughput.get("x").get("ticks").toString()).isEqualTo("[1.0,2.0,4.0,8.0,16.0,32.0,64.0]");
        assertThat(labels(throughput.get("series"))).containsExactly(
                "server v2-json req/s", "raw engine best: 54400 items/s (batch 64)");
        assertThat(throughput.get("series").get(1).get("points").get(0).get("y").asDouble()).isEqualTo(54400);
        JsonNode latency = charts.get(2);
        assertThat(labels(latency.get("series"))).containsExactly(
                "server v2-json p50", "server v2-json p90", "server v2-json p99", "server v2-json p99.9",
                "raw engine p50", "raw engine p90", "raw engine p99", "raw engine p99.9");
        assertThat(latency.get("series").get(4).get("dashed").asBoolean()).isTrue();
    }

    @Test
    void headerCardsAndTablesCarryTheNumbers() {
        String html = HtmlReport.render(List.of(Samples.riskServer(), Samples.riskRaw()));

        assertThat(html).contains("<h1>torchlight bench: risk</h1>")
                .contains("<dd>v2-json, raw</dd>")
                .contains("<dd>Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores</dd>")
                // 0.417 ms at concurrency 1 minus 0.19 ms at batch 1
                .contains("Server overhead at concurrency 1</div><div class=\"value\">227<span class=\"unit\">µs")
                .contains("<tr class=\"best\"><td>conc 64</td><td>20500</td>")
                .contains("<td>batch 64</td><td>850</td><td>54400</td>");
    }

    @Test
    void openLoopGetsARateChartAndEscapesText() throws IOException {
        LevelResult level = new LevelResult(null, 2000.0, 1, 1900, 1900, 1, 2, 3, 4, 5, 19000, 2,
                Map.of("timeout", 2L), 40);
        BenchReport report = new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T09:00:00Z", Samples.HOST,
                "http://h:1", "<risk>", "torchserve", List.of(level), "gone </script><b>");

        String html = HtmlReport.render(List.of(report));

        assertThat(html).contains("&lt;risk&gt;").contains("gone &lt;/script&gt;&lt;b&gt;")
                .doesNotContain("<b>").contains("<th>behind schedule</th>");
        assertThat(html.split("</script>", -1)).hasSize(1 + 4);
        assertThat(JSON.readTree(element(html, "chart-specs")).findValuesAsText("id"))
                .containsExactly("throughput-rate", "latency-throughput");
    }

    @Test
    void logTicksFollowOneTwoFive() {
        assertThat(Charts.ticks125(0.19, 9.4)).containsExactly(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0);
        assertThat(Charts.ticks125(2, 20)).containsExactly(2.0, 5.0, 10.0, 20.0);
    }

    @Test
    void refusesAnEmptyList() {
        assertThatThrownBy(() -> HtmlReport.render(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    private static List<String> labels(JsonNode series) {
        List<String> labels = new ArrayList<>();
        series.forEach(s -> labels.add(s.get("label").asText()));
        return labels;
    }

    private static String element(String html, String id) {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"" + id + "\">\\n(.*?)\\n</script>",
                Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as(id).isTrue();
        return m.group(1);
    }
}
