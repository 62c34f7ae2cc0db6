package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.api.ServingException;
import dev.torchlight.metrics.ModelStats;
import java.io.IOException;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

/** The v2 REST endpoints end to end over a real socket, with a fake model service. */
class V2EndpointsTest extends ServerTestSupport {

    private static final String ADDONE = """
            {"id": "req-1", "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4.5]}]}""";

    @Test
    void serverMetadata() throws Exception {
        Reply r = get("/v2");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("name").asText()).isEqualTo("torchlight");
        assertThat(r.json().path("version").isTextual()).isTrue();
        assertThat(r.json().path("extensions").isArray()).isTrue();
        assertThat(r.json().path("extensions").toString()).isEqualTo("[\"binary_tensor_data\",\"statistics\",\"model_configuration\"]");
        assertThat(get("/v2/").status()).isEqualTo(200);
    }

    @Test
    void healthFollowsReadiness() throws Exception {
        assertThat(get("/v2/health/live").status()).isEqualTo(200);
        Reply ready = get("/v2/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("ready").asBoolean()).isTrue();
        service.setReady("pair", false);
        Reply notReady = get("/v2/health/ready");
        assertThat(notReady.status()).isEqualTo(503);
        assertThat(notReady.json().path("ready").asBoolean()).isFalse();
        assertThat(get("/v2/health/live").status()).isEqualTo(200);
    }

    @Test
    void modelReadiness() throws Exception {
        Reply ready = get("/v2/models/addone/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("name").asText()).isEqualTo("addone");
        assertThat(ready.json().path("ready").asBoolean()).isTrue();
        assertThat(get("/v2/models/addone/versions/1/ready").status()).isEqualTo(200);
        service.setReady("addone", false);
        Reply notReady = get("/v2/models/addone/versions/2/ready");
        assertThat(notReady.status()).isEqualTo(503);
        assertThat(notReady.json().path("ready").asBoolean()).isFalse();
        assertError(get("/v2/models/nope/ready"), 404, "unknown model 'nope'");
        assertError(get("/v2/models/addone/versions/9/ready"), 404, "has no version 9");
    }

    @Test
    void modelMetadataShowsTheBatchDimension() throws Exception {
        Reply r = get("/v2/models/addone");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("""
                {"name": "addone", "versions": ["1", "2"], "platform": "pytorch_torchscript",
                 "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 4]}]}"""));
        JsonNode unbatched = get("/v2/models/doubler/versions/1").json();
        assertThat(unbatched.path("inputs").get(0).path("shape")).isEqualTo(JSON.readTree("[-1, 2]"));
        assertError(get("/v2/models/nope"), 404, "unknown model 'nope'");
    }

    @Test
    void inferEchoesIdAndAnswersWithTheVersionThatRan() throws Exception {
        Reply r = post("/v2/models/addone/infer", ADDONE);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("""
                {"model_name": "addone", "model_version": "2", "id": "req-1",
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [1, 4], "data": [3.0, 4.0, 5.0, 6.5]}]}"""));
        Reply v1 = post("/v2/models/addone/versions/1/infer", ADDONE.replace("\"id\": \"req-1\", ", ""));
        assertThat(v1.json().path("model_version").asText()).isEqualTo("1");
        assertThat(v1.json().has("id")).isFalse();
        assertThat(v1.json().path("outputs").get(0).path("data").get(0).asDouble()).isEqualTo(2.0);
    }

    @Test
    void inferPassesParametersAndNestedData() throws Exception {
        Reply r = post("/v2/models/addone/infer", """
                {"parameters": {"priority": 3, "tag": "a"},
                 "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "parameters": {"content_type": "np"},
                             "data": [[1, 2, 3, 4], [5, 6, 7, 8]]}]}""");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("outputs").get(0).path("shape")).isEqualTo(JSON.readTree("[2, 4]"));
        assertThat(r.json().path("outputs").get(0).path("data").get(7).asDouble()).isEqualTo(10.0);
        assertThat(service.received.get(0).priority()).isEqualTo(3);
    }

    @Test
    void everyDatatypeTravelsBothWays() throws Exception {
        Reply r = post("/v2/models/echo/infer", """
                {"inputs": [
                  {"name": "bool", "datatype": "BOOL", "shape": [2], "data": [true, false]},
                  {"name": "uint8", "datatype": "UINT8", "shape": [2], "data": [0, 255]},
                  {"name": "int8", "datatype": "INT8", "shape": [2], "data": [-128, 127]},
                  {"name": "int16", "datatype": "INT16", "shape": [2], "data": [-32768, 32767]},
                  {"name": "int32", "datatype": "INT32", "shape": [2], "data": [-2147483648, 2147483647]},
                  {"name": "int64", "datatype": "INT64", "shape": [2], "data": [-9223372036854775808, 9223372036854775807]},
                  {"name": "fp16", "datatype": "FP16", "shape": [2], "data": [0.1, -65504]},
                  {"name": "bf16", "datatype": "BF16", "shape": [2], "data": [3.14159, 1e39]},
                  {"name": "fp32", "datatype": "FP32", "shape": [2], "data": [0.1, "NaN"]},
                  {"name": "fp64", "datatype": "FP64", "shape": [2], "data": [0.1, -1e308]}
                ]}""");
        assertThat(r.status()).as(r.raw().body()).isEqualTo(200);
        assertThat(r.json().path("outputs")).isEqualTo(JSON.readTree("""
                [{"name": "bool", "datatype": "BOOL", "shape": [2], "data": [true, false]},
                 {"name": "uint8", "datatype": "UINT8", "shape": [2], "data": [0, 255]},
                 {"name": "int8", "datatype": "INT8", "shape": [2], "data": [-128, 127]},
                 {"name": "int16", "datatype": "INT16", "shape": [2], "data": [-32768, 32767]},
                 {"name": "int32", "datatype": "INT32", "shape": [2], "data": [-2147483648, 2147483647]},
                 {"name": "int64", "datatype": "INT64", "shape": [2], "data": [-9223372036854775808, 9223372036854775807]},
                 {"name": "fp16", "datatype": "FP16", "shape": [2], "data": [0.099975586, -65504.0]},
                 {"name": "bf16", "datatype": "BF16", "shape": [2], "data": [3.140625, "Infinity"]},
                 {"name": "fp32", "datatype": "FP32", "shape": [2], "data": [0.1, "NaN"]},
                 {"name": "fp64", "datatype": "FP64", "shape": [2], "data": [0.1, -1.0E308]}]"""));
    }

    @Test
    void requestedOutputsOnly() throws Exception {
        String body = """
                {"inputs": [{"name": "a", "shape": [1, 2], "datatype": "FP32", "data": [5, 1]},
                            {"name": "b", "shape": [1, 2], "datatype": "FP32", "data": [2, 2]}],
                 "outputs": [{"name": "diff"}]}""";
        Reply r = post("/v2/models/pair/infer", body);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("outputs")).hasSize(1);
        assertThat(r.json().path("outputs").get(0).path("name").asText()).isEqualTo("diff");
        assertThat(r.json().path("outputs").get(0).path("data")).isEqualTo(JSON.readTree("[3.0, -1.0]"));
        assertThat(service.received.get(0).outputs()).containsExactly("diff");

        assertError(post("/v2/models/pair/infer", body.replace("\"diff\"", "\"product\"")), 400,
                "model 'pair' has no output 'product'; its outputs are [sum, diff]");
        assertThat(service.received).hasSize(1); // refused before the model ran
    }

    @Test
    void badRequestsAre400sNamingTheProblem() throws Exception {
        assertError(post("/v2/models/addone/infer", "{\"inputs\": [{\"name\": \"x\",}"), 400, "malformed JSON at line 1");
        assertError(post("/v2/models/addone/infer", ""), 400, "the request body is empty");
        assertError(post("/v2/models/addone/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}"),
                400, "input 'x': shape [1, 4] needs 4 elements, data has 3");
        assertError(post("/v2/models/addone/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"UINT8\", \"data\": [1, 2, 3, 300]}]}"),
                400, "input 'x': element 3 is 300, out of range for UINT8 [0, 255]");
        assertError(post("/v2/models/addone/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, \"a\", 4]}]}"),
                400, "input 'x': element 2 is the string \"a\", expected a number for FP32");
        assertError(post("/v2/models/addone/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"COMPLEX\", \"data\": [1, 2, 3, 4]}]}"),
                400, "unsupported datatype 'COMPLEX'");
        assertError(post("/v2/models/addone/infer", "{\"outputs\": []}"), 400, "the request has no 'inputs'");
    }

    @Test
    void versionPathSegmentsMustBeIntegers() throws Exception {
        assertError(post("/v2/models/addone/versions/latest/infer", ADDONE), 400,
                "model version must be a non-negative integer, got 'latest'");
        assertError(get("/v2/models/addone/versions/1.0"), 400, "got '1.0'");
        assertError(get("/v2/models/addone/versions/-1/ready"), 400, "got '-1'");
        assertError(get("/v2/models/addone/versions/99999999999999999999"), 400, "non-negative integer");
        assertError(post("/v2/models/addone/versions/7/infer", ADDONE), 404, "has no version 7");
    }

    @Test
    void modelServiceFailuresMapToStatuses() throws Exception {
        String body = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [1]}]}";
        assertError(post("/v2/models/nope/infer", body), 404, "unknown model 'nope'");
        service.setReady("failing", false);
        assertError(post("/v2/models/failing/infer", body), 503, "is loading");
        service.setReady("failing", true);

        service.failure = new ServingException.Overloaded("queue full");
        Reply overloaded = post("/v2/models/failing/infer", body);
        assertError(overloaded, 503, "queue full");
        assertThat(overloaded.header("Retry-After")).isEqualTo("1");

        service.failure = new ServingException.TimedOut("deadline passed");
        assertError(post("/v2/models/failing/infer", body), 504, "deadline passed");
        service.failure = new ServingException.ResourceExhausted("batch too large");
        assertError(post("/v2/models/failing/infer", body), 413, "batch too large");
        service.failure = new ServingException.Internal("engine failed", new IllegalStateException("native"));
        assertError(post("/v2/models/failing/infer", body), 500, "engine failed");
        service.failure = new IllegalStateException("a bug with details");
        Reply bug = post("/v2/models/failing/infer", body);
        assertError(bug, 500, "internal error");
        assertThat(bug.raw().body()).doesNotContain("details");
    }

    @Test
    void unknownPathsAndMethods() throws Exception {
        assertError(get("/v3"), 404, "no such endpoint: GET /v3");
        assertError(get("/v2/models"), 404, "no such endpoint");
        assertError(get("/v2/models/addone/versions"), 404, "no such endpoint");
        assertError(get("/v2/models/addone/explain"), 404, "no such endpoint");
        assertError(get("/v2/health/dead"), 404, "no such endpoint");
        assertError(get("/"), 404, "no such endpoint");

        Reply getInfer = get("/v2/models/addone/infer");
        assertError(getInfer, 405, "method GET is not allowed here; use POST");
        assertThat(getInfer.header("Allow")).isEqualTo("POST");
        Reply postLive = post("/v2/health/live", "{}");
        assertError(postLive, 405, "use GET");
        assertThat(postLive.header("Allow")).isEqualTo("GET");
        Reply delete = send(HttpRequest.newBuilder(uri("/v2/models/addone")).DELETE());
        assertError(delete, 405, "method DELETE");
    }

    @Test
    void percentEncodedModelNames() throws Exception {
        assertError(get("/v2/models/no%20such"), 404, "unknown model 'no such'");
        assertError(get("/v2/models/a%2Fb/ready"), 404, "unknown model 'a/b'");
        try (RawHttp http = new RawHttp(address)) { // java.net.URI refuses to send a bad escape
            http.send(RawHttp.get("/v2/models/bad%zz"));
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").asText()).startsWith("malformed path");
        }
        assertThat(get("/v2/models/%61ddone?verbose=1").status()).isEqualTo(200);
    }

    @Test
    void bodyJustUnderTheLimitIsServed() throws IOException, InterruptedException {
        StringBuilder data = new StringBuilder();
        int n = 0;
        while (data.length() < MAX_REQUEST_SIZE - 200) {
            data.append(n == 0 ? "" : ",").append('1');
            n++;
        }
        String body = "{\"inputs\": [{\"name\": \"x\", \"shape\": [" + n + "], \"datatype\": \"FP32\", \"data\": [" + data + "]}]}";
        assertThat(body.length()).isLessThanOrEqualTo(MAX_REQUEST_SIZE);
        Reply r = post("/v2/models/echo/infer", body.replace("\"x\"", "\"fp32\""));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("outputs").get(0).path("data")).hasSize(n);
    }

    private static Reply postWith(String path, String body, String... headers) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json").headers(headers)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void timeoutAndPriorityComeFromParametersThenHeaders() throws Exception {
        assertThat(post("/v2/models/addone/infer", ADDONE).status()).isEqualTo(200);
        assertThat(service.received.get(0).timeoutMicros()).as("none sent").isZero();
        assertThat(service.received.get(0).priority()).isZero();

        Reply fromBody = post("/v2/models/addone/infer", ADDONE.replace("\"inputs\"",
                "\"parameters\": {\"timeout\": 1500, \"priority\": 2}, \"inputs\""));
        assertThat(fromBody.status()).isEqualTo(200);
        assertThat(service.received.get(1).timeoutMicros()).isEqualTo(1500);
        assertThat(service.received.get(1).priority()).isEqualTo(2);

        Reply fromHeaders = postWith("/v2/models/addone/infer", ADDONE,
                "X-Request-Timeout-Ms", "40", "X-Request-Priority", "3");
        assertThat(fromHeaders.status()).isEqualTo(200);
        assertThat(service.received.get(2).timeoutMicros()).as("milliseconds to microseconds").isEqualTo(40_000);
        assertThat(service.received.get(2).priority()).isEqualTo(3);

        Reply both = postWith("/v2/models/addone/infer", ADDONE.replace("\"inputs\"",
                "\"parameters\": {\"priority\": 1}, \"inputs\""), "X-Request-Timeout-Ms", "5", "X-Request-Priority", "3");
        assertThat(both.status()).isEqualTo(200);
        assertThat(service.received.get(3).priority()).as("the body wins").isEqualTo(1);
        assertThat(service.received.get(3).timeoutMicros()).as("the header fills in").isEqualTo(5000);
    }

    @Test
    void badTimeoutOrPriorityIs400NamingIt() throws Exception {
        assertError(post("/v2/models/addone/infer", ADDONE.replace("\"inputs\"",
                "\"parameters\": {\"timeout\": -1}, \"inputs\"")), 400, "'parameters.timeout' must be");
        assertError(post("/v2/models/addone/infer", ADDONE.replace("\"inputs\"",
                "\"parameters\": {\"priority\": \"high\"}, \"inputs\"")), 400, "'parameters.priority' must be");
        assertError(postWith("/v2/models/addone/infer", ADDONE, "X-Request-Timeout-Ms", "soon"), 400,
                "X-Request-Timeout-Ms must be a non-negative integer number of milliseconds, got 'soon'");
        assertError(postWith("/v2/models/addone/infer", ADDONE, "X-Request-Priority", "-1"), 400,
                "X-Request-Priority must be");
        assertThat(service.received).as("nothing reached the model").isEmpty();
    }

    @Test
    void statisticsShowEngineRunsByBatchSize() throws Exception {
        ModelStats stats = new ModelStats(8);
        stats.recordExecution(4, 4000);
        stats.recordExecution(1, 100);
        stats.recordExecution(4, 6000);
        service.stats.put("addone", stats);

        JsonNode model = get("/v2/models/addone/versions/2/stats").json().path("model_stats").get(0);

        assertThat(model.path("execution_count").asLong()).isEqualTo(3);
        assertThat(model.path("inference_count").asLong()).isEqualTo(9);
        assertThat(model.path("batch_stats")).isEqualTo(JSON.readTree("""
                [{"batch_size": 1,
                  "compute_input": {"count": 1, "ns": 0},
                  "compute_infer": {"count": 1, "ns": 100},
                  "compute_output": {"count": 1, "ns": 0}},
                 {"batch_size": 4,
                  "compute_input": {"count": 2, "ns": 0},
                  "compute_infer": {"count": 2, "ns": 10000},
                  "compute_output": {"count": 2, "ns": 0}}]"""));
        JsonNode idle = get("/v2/models/pair/stats").json().path("model_stats").get(0);
        assertThat(idle.path("batch_stats").isArray()).isTrue();
        assertThat(idle.path("batch_stats")).isEmpty();
    }
}
