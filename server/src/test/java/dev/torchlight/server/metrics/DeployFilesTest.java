package dev.torchlight.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alerting rules and the dashboard stay in step with the metrics: every torchlight metric they
 * query is one docs/METRICS.md documents, and every dashboard query is valid PromQL.
 */
class DeployFilesTest {
    private static final Pattern METRIC = Pattern.compile("\\btorchlight_[a-z_]+");

    @TempDir
    Path tmp;

    @Test
    void alertsAndDashboardQueryOnlyDocumentedMetrics() throws IOException {
        Set<String> documented = documented();
        assertThat(documented).contains("torchlight_requests_total", "torchlight_gpu_utilization_ratio");
        Set<String> used = new TreeSet<>();
        used.addAll(names(Files.readString(root().resolve("deploy/prometheus/alerts.yml"))));
        for (String expr : dashboardQueries()) {
            used.addAll(names(expr));
        }
        assertThat(used).hasSizeGreaterThan(10);
        assertThat(used).allSatisfy(name -> assertThat(documented).as("documented metrics").contains(name));
    }

    @Test
    void theDashboardImportsWithADataSourceVariableAndPanels() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(root().resolve("deploy/grafana/torchlight.json").toFile());
        assertThat(dashboard.get("uid").asText()).isEqualTo("torchlight");
        assertThat(dashboard.get("templating").get("list").get(0).get("type").asText()).isEqualTo("datasource");
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertThat(panel.has("gridPos")).isTrue();
            titles.add(panel.get("title").asText());
        }
        assertThat(String.join("\n", titles)).contains("p99", "Throughput", "Success rate", "Error rate",
                "GPU utilization", "GPU memory");
    }

    @Test
    void everyDashboardQueryIsValidPromQl() throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("promtool"), "promtool is not installed (CI installs it through .ci/run)");
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int i = 0;
        for (String expr : dashboardQueries()) {
            String concrete = expr.replace("$__rate_interval", "5m").replace("$model", ".*").replace("$version", ".*");
            rules.append("      - record: dashboard_query_").append(i++).append("\n        expr: ")
                    .append(new ObjectMapper().writeValueAsString(concrete)).append('\n');
        }
        Path file = tmp.resolve("dashboard-rules.yml");
        Files.writeString(file, rules);
        Process promtool = new ProcessBuilder("promtool", "check", "rules", file.toString())
                .redirectErrorStream(true).start();
        String verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(promtool.exitValue()).as("promtool check rules said:\n%s", verdict).isZero();
        assertThat(verdict).contains("SUCCESS: " + i + " rules found");
    }

    /** The metric names in docs/METRICS.md's tables, with _total, _bucket etc. implied for their types. */
    static Set<String> documented() throws IOException {
        Set<String> names = new TreeSet<>();
        for (String line : Files.readAllLines(root().resolve("docs/METRICS.md"))) {
            Matcher m = Pattern.compile("^\\| `(torchlight_[a-z_]+)[^`]*` \\| (\\w+) \\|").matcher(line);
            if (m.find()) {
                String name = m.group(1);
                names.add(name);
                if (m.group(2).equals("histogram")) {
                    names.addAll(List.of(name + "_bucket", name + "_sum", name + "_count"));
                }
            }
        }
        return names;
    }

    private static Set<String> names(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    private static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(root().resolve("deploy/grafana/torchlight.json").toFile());
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(target.get("expr").asText());
            }
        }
        return queries;
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("deploy/ not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }
}
