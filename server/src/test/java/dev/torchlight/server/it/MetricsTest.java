package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.server.metrics.gpu.NvmlLibrary;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus listener on the real server: counts after known traffic, histogram buckets,
 * promtool's verdict on a live scrape, agreement with the v2 statistics, and the access log.
 * Batching is off for these models, so each request is one engine run of its own rows.
 */
class MetricsTest {
    static final String A_ROW = "[1,2,3,4]";

    @TempDir
    static Path dir;

    static ServerHarness harness;
    static Path accessLog;
    static URI metrics;

    @BeforeAll
    static void start() {
        accessLog = dir.resolve("logs/access.log");
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, TestData.models(), List.of("two_io", "no_batch"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, 0, accessLog, ManagementConfig.ephemeral(),
                SecurityConfig.defaults(), 0, dev.torchlight.config.HandlerConfig.defaults()));
        metrics = URI.create("http://127.0.0.1:" + harness.server.metricsAddress().getPort() + "/metrics");
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void requestCountsRowsAndRunsEqualTheTrafficSentPerOutcome() {
        Scrape before = scrape();
        assertThat(harness.post("/v2/models/two_io/infer", twoIo(1)).statusCode()).isEqualTo(200);
        assertThat(harness.post("/v2/models/two_io/infer", twoIo(2)).statusCode()).isEqualTo(200);
        assertThat(harness.post("/v2/models/two_io/infer", twoIo(5)).statusCode()).isEqualTo(200);
        // Wrong datatype, twice: refused by validation.
        String int32 = twoIo(1).replace("\"FP32\"", "\"INT32\"");
        assertThat(harness.post("/v2/models/two_io/infer", int32).statusCode()).isEqualTo(400);
        assertThat(harness.post("/v2/models/two_io/infer", int32).statusCode()).isEqualTo(400);
        // A priority the model does not have: refused by the scheduler.
        String priority = twoIo(1).replace("{\"inputs\"", "{\"parameters\":{\"priority\":7},\"inputs\"");
        assertThat(harness.post("/v2/models/two_io/infer", priority).statusCode()).isEqualTo(400);
        // Not attributable to the model: a body that is not JSON. Counted by HTTP status only.
        assertThat(harness.post("/v2/models/two_io/infer", "{not json").statusCode()).isEqualTo(400);
        Scrape after = scrape();

        assertThat(responses(after, 400) - responses(before, 400)).isEqualTo(4);
        for (Outcome outcome : Outcome.values()) {
            double expected = switch (outcome) {
                case SUCCESS -> 3;
                case INVALID_INPUT -> 3;
                default -> 0;
            };
            assertThat(delta(before, after, "torchlight_requests_total", "outcome", outcome.label()))
                    .as(outcome.label()).isEqualTo(expected);
        }
        assertThat(delta(before, after, "torchlight_inferences_total")).isEqualTo(8);
        assertThat(delta(before, after, "torchlight_executions_total")).isEqualTo(3);
    }

    @Test
    void histogramsCountEachRequestAndRunInTheRightBucket() {
        Scrape before = scrape();
        for (int rows : new int[] {1, 2, 2, 3, 8}) {
            assertThat(harness.post("/v2/models/two_io/infer", twoIo(rows)).statusCode()).isEqualTo(200);
        }
        Scrape after = scrape();

        // Batch sizes: bounds 1, 2, 4, 8 (max_batch_size 8); buckets are cumulative.
        assertThat(delta(before, after, "torchlight_batch_size_bucket", "le", "1.0")).isEqualTo(1);
        assertThat(delta(before, after, "torchlight_batch_size_bucket", "le", "2.0")).isEqualTo(3);
        assertThat(delta(before, after, "torchlight_batch_size_bucket", "le", "4.0")).isEqualTo(4);
        assertThat(delta(before, after, "torchlight_batch_size_bucket", "le", "8.0")).isEqualTo(5);
        assertThat(delta(before, after, "torchlight_batch_size_bucket", "le", "+Inf")).isEqualTo(5);
        assertThat(delta(before, after, "torchlight_batch_size_count")).isEqualTo(5);
        assertThat(delta(before, after, "torchlight_batch_size_sum")).isEqualTo(16);
        for (String histogram : List.of("torchlight_request_duration_seconds", "torchlight_queue_duration_seconds",
                "torchlight_compute_duration_seconds")) {
            assertThat(delta(before, after, histogram + "_count")).as(histogram).isEqualTo(5);
            assertThat(delta(before, after, histogram + "_bucket", "le", "+Inf")).as(histogram).isEqualTo(5);
            assertThat(delta(before, after, histogram + "_sum")).as(histogram).isPositive();
            assertCumulative(after, histogram);
        }
        // A model run takes far less than 10 s and more than nothing.
        assertThat(delta(before, after, "torchlight_compute_duration_seconds_bucket", "le", "10.0")).isEqualTo(5);
    }

    @Test
    void modelStateGaugesDescribeTheServingModel() {
        Scrape s = scrape();
        String[] v = {"model", "two_io", "version", "1"};
        assertThat(s.value("torchlight_model_ready", v)).isEqualTo(1);
        assertThat(s.value("torchlight_model_instances", v)).isEqualTo(1);
        assertThat(s.value("torchlight_model_instances_healthy", v)).isEqualTo(1);
        assertThat(s.value("torchlight_instance_safe_batch_size", "model", "two_io", "version", "1", "instance", "0"))
                .isZero();
        assertThat(s.value("torchlight_instance_info", "model", "two_io", "version", "1", "instance", "0", "device",
                "cpu", "stream", "")).isEqualTo(1);
        assertThat(s.value("torchlight_queue_depth", v)).isZero();
        assertThat(s.value("torchlight_inflight_requests", v)).isZero();
    }

    @Test
    void runsOnTheThreadThatReceivedTheRequestAreCountedPerInstanceAndAmongTheExecutions() {
        Scrape before = scrape();
        String[] instance = {"model", "no_batch", "version", "1", "instance", "0"};
        for (int i = 0; i < 40; i++) {
            assertThat(harness.post("/v2/models/no_batch/infer", noBatch()).statusCode()).isEqualTo(200);
        }
        Scrape after = scrape();
        // How many ran on the event loop depends on how fast the machine ran the model's recent runs
        // (CallerRunsTest pins the rule down); the count is there, per instance, and among the runs.
        double callerRuns = delta(before, after, "torchlight_instance_caller_runs_total", instance);
        assertThat(callerRuns).isBetween(0.0,
                delta(before, after, "torchlight_executions_total", "model", "no_batch", "version", "1"));
        JsonNode detail = ServerHarness.json(harness.get("/health/detail"));
        assertThat(detail.toString()).contains("\"caller_runs\"");
    }

    @Test
    void serverAndJvmMetricsAreThereAndGpuMetricsOnlyWithNvml() {
        harness.get("/v2/health/live");
        Scrape s = scrape();
        assertThat(s.value("torchlight_uptime_seconds")).isPositive();
        assertThat(s.value("torchlight_http_connections")).isGreaterThanOrEqualTo(1);
        assertThat(s.value("torchlight_http_connections_accepted_total")).isGreaterThanOrEqualTo(1);
        assertThat(s.value("torchlight_http_responses_total", "code", "200")).isGreaterThanOrEqualTo(1);
        assertThat(s.value("torchlight_http_inflight_body_bytes")).isGreaterThanOrEqualTo(0);
        assertThat(s.value("torchlight_grpc_inflight_request_bytes")).as("no gRPC call in flight").isZero();
        assertThat(s.value("torchlight_transport_errors_total", "protocol", "grpc")).isGreaterThanOrEqualTo(0);
        assertThat(s.value("torchlight_http_client_timeouts_total", "phase", "idle")).isGreaterThanOrEqualTo(0);
        assertThat(s.has("jvm_memory_used_bytes")).isTrue();
        assertThat(s.has("jvm_gc_collection_seconds_count")).isTrue();
        assertThat(s.has("process_start_time_seconds")).isTrue();
        boolean nvml = NvmlLibrary.load(NvmlLibrary.LIBRARY).isPresent();
        assertThat(s.has("torchlight_gpu_utilization_ratio")).isEqualTo(nvml);
    }

    @Test
    void everyTorchlightMetricInAScrapeIsDocumented() throws IOException {
        String docs = Files.readString(TestData.root().resolve("docs/METRICS.md"));
        List<String> families = new ArrayList<>();
        for (String line : scrape().text.split("\n")) {
            if (line.startsWith("# TYPE torchlight_")) {
                families.add(line.split(" ")[2]);
            }
        }
        assertThat(families).hasSizeGreaterThanOrEqualTo(16);
        for (String family : families) {
            assertThat(docs).as("docs/METRICS.md").contains("`" + family);
        }
    }

    @Test
    void promtoolAcceptsALiveScrape() throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("promtool"), "promtool is not installed (CI installs it through .ci/run)");
        harness.post("/v2/models/two_io/infer", twoIo(1));
        String text = scrape().text;
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(promtool.exitValue()).as("promtool check metrics said:\n%s", verdict).isZero();
    }

    @Test
    void theStatisticsEndpointAgreesWithTheMetrics() {
        for (int rows : new int[] {1, 4}) {
            assertThat(harness.post("/v2/models/two_io/infer", twoIo(rows)).statusCode()).isEqualTo(200);
        }
        harness.post("/v2/models/two_io/infer", twoIo(1).replace("\"FP32\"", "\"INT32\""));
        JsonNode stats = ServerHarness.json(harness.get("/v2/models/two_io/versions/1/stats")).get("model_stats").get(0);
        Scrape s = scrape();
        String[] v = {"model", "two_io", "version", "1"};
        JsonNode inference = stats.get("inference_stats");

        assertThat(stats.get("inference_count").asDouble()).isEqualTo(s.value("torchlight_inferences_total", v));
        assertThat(stats.get("execution_count").asDouble()).isEqualTo(s.value("torchlight_executions_total", v));
        assertThat(inference.get("success").get("count").asDouble())
                .isEqualTo(s.value("torchlight_requests_total", "model", "two_io", "version", "1", "outcome", "success"));
        // Accepted requests: the v2 success and fail counts; refusals are only in the outcome counter.
        assertThat(inference.get("success").get("count").asLong() + inference.get("fail").get("count").asLong())
                .isEqualTo((long) s.value("torchlight_request_duration_seconds_count", v));
        assertThat((inference.get("success").get("ns").asLong() + inference.get("fail").get("ns").asLong()) / 1e9)
                .isCloseTo(s.value("torchlight_request_duration_seconds_sum", v), within(1e-6));
        assertThat(inference.get("queue").get("count").asDouble())
                .isEqualTo(s.value("torchlight_queue_duration_seconds_count", v));
        assertThat(inference.get("queue").get("ns").asLong() / 1e9)
                .isCloseTo(s.value("torchlight_queue_duration_seconds_sum", v), within(1e-6));
        assertThat(inference.get("compute_infer").get("count").asDouble())
                .isEqualTo(s.value("torchlight_compute_duration_seconds_count", v));
        assertThat(inference.get("compute_infer").get("ns").asLong() / 1e9)
                .isCloseTo(s.value("torchlight_compute_duration_seconds_sum", v), within(1e-6));
        long runs = 0;
        for (JsonNode b : stats.get("batch_stats")) {
            runs += b.get("compute_infer").get("count").asLong();
        }
        assertThat(runs).isEqualTo((long) s.value("torchlight_batch_size_count", v));
        assertThat(s.value("torchlight_requests_total", "model", "two_io", "version", "1", "outcome", "invalid_input"))
                .isPositive();
    }

    @Test
    void theAccessLogHasOneLinePerRequestWithTimings() throws IOException {
        String tag = "/v2/models/no_batch/versions/1/infer";
        assertThat(harness.post(tag, "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],"
                + "\"data\":[1,2,3,4,5,6]}]}").statusCode()).isEqualTo(200);
        assertThat(harness.post(tag, "{\"inputs\":[]}").statusCode()).isEqualTo(400);

        List<JsonNode> lines = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            lines.clear();
            if (Files.exists(accessLog)) {
                for (String line : Files.readAllLines(accessLog)) {
                    JsonNode node = TestData.JSON.readTree(line);
                    if (node.get("path").asText().equals(tag)) {
                        lines.add(node);
                    }
                }
            }
            if (lines.size() >= 2) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // the writer appends every 20 ms
        }
        assertThat(lines).hasSize(2);
        JsonNode ok = lines.get(0);
        assertThat(ok.get("method").asText()).isEqualTo("POST");
        assertThat(ok.get("model").asText()).isEqualTo("no_batch");
        assertThat(ok.get("version").asText()).isEqualTo("1");
        assertThat(ok.get("status").asInt()).isEqualTo(200);
        assertThat(ok.get("rows").asInt()).isEqualTo(1);
        assertThat(ok.get("compute_us").asLong()).isPositive();
        assertThat(ok.get("queue_us").asLong()).isNotNegative();
        assertThat(ok.get("duration_us").asLong()).isGreaterThanOrEqualTo(ok.get("compute_us").asLong());
        assertThat(ok.get("bytes_in").asLong()).isPositive();
        assertThat(ok.get("bytes_out").asLong()).isPositive();
        assertThat(ok.get("time").asText()).endsWith("Z");
        JsonNode bad = lines.get(1);
        assertThat(bad.get("status").asInt()).isEqualTo(400);
        assertThat(bad.get("model").asText()).isEqualTo("no_batch");
        assertThat(bad.get("version").asText()).isEqualTo("1");
        assertThat(bad.get("rows").asInt()).isZero();
    }

    /** A two_io request of {@code rows} rows. */
    static String noBatch() {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]}";
    }

    static String twoIo(int rows) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            data.append(i == 0 ? "" : ",").append(A_ROW.substring(1, A_ROW.length() - 1));
        }
        String tensor = "\"datatype\":\"FP32\",\"shape\":[" + rows + ",4],\"data\":[" + data + "]";
        return "{\"inputs\":[{\"name\":\"a\"," + tensor + "},{\"name\":\"b\"," + tensor + "}]}";
    }

    private static double delta(Scrape before, Scrape after, String name, String... extra) {
        String[] labels = new String[4 + extra.length];
        labels[0] = "model";
        labels[1] = "two_io";
        labels[2] = "version";
        labels[3] = "1";
        System.arraycopy(extra, 0, labels, 4, extra.length);
        Double was = before.find(name, labels);
        return after.value(name, labels) - (was == null ? 0 : was);
    }

    private static double responses(Scrape s, int code) {
        Double count = s.find("torchlight_http_responses_total", "code", Integer.toString(code));
        return count == null ? 0 : count;
    }

    private static void assertCumulative(Scrape s, String histogram) {
        double previous = 0;
        for (long bound : dev.torchlight.metrics.BucketHistogram.LATENCY_BOUNDS_NANOS) {
            double count = s.value(histogram + "_bucket", "model", "two_io", "version", "1", "le", le(bound / 1e9));
            assertThat(count).as("%s le=%s", histogram, bound).isGreaterThanOrEqualTo(previous);
            previous = count;
        }
        assertThat(s.value(histogram + "_bucket", "model", "two_io", "version", "1", "le", "+Inf"))
                .isGreaterThanOrEqualTo(previous);
    }

    private static String le(double bound) {
        return Double.toString(bound);
    }

    static Scrape scrape() {
        HttpResponse<String> r = harness.send(HttpRequest.newBuilder(metrics).GET());
        assertThat(r.statusCode()).isEqualTo(200);
        return new Scrape(r.body());
    }

    static boolean onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }
}
