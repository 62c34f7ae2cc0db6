package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.embedded.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every endpoint and every client error of issue 2 against the real server and real models. */
class EndpointsTest {
    static ServerHarness harness;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    /** Whatever a test sent, the server must still be alive and the models still serve. */
    @AfterEach
    void serverStillHealthy() {
        assertThat(harness.get("/v2/health/live").statusCode()).isEqualTo(200);
        assertThat(harness.get("/v2/health/ready").statusCode()).isEqualTo(200);
        HttpResponse<String> sum = harness.post("/predictions/no_batch", "[[1,2,3],[4,5,6]]");
        assertThat(sum.statusCode()).isEqualTo(200);
        assertThat(ServerHarness.json(sum).toString()).isIn("[11.0,15.0,19.0]", "[11,15,19]");
    }

    @Test
    void serverMetadataAndHealth() {
        HttpResponse<String> meta = harness.get("/v2");
        assertThat(meta.statusCode()).isEqualTo(200);
        assertThat(ServerHarness.json(meta).get("name").asText()).isEqualTo("torchlight");
        assertThat(ServerHarness.json(meta).has("version")).isTrue();
        assertThat(ServerHarness.json(meta).get("extensions").isArray()).isTrue();

        HttpResponse<String> ping = harness.get("/ping");
        assertThat(ping.statusCode()).isEqualTo(200);
        assertThat(ServerHarness.json(ping).get("status").asText()).isEqualTo("Healthy");
    }

    @Test
    void modelMetadataDescribesInputsOutputsAndVersions() {
        JsonNode meta = ServerHarness.json(harness.get("/v2/models/two_io"));
        assertThat(meta.get("name").asText()).isEqualTo("two_io");
        assertThat(meta.get("versions").toString()).isEqualTo("[\"1\"]");
        assertThat(meta.get("inputs").get(0).get("name").asText()).isEqualTo("a");
        assertThat(meta.get("inputs").get(0).get("datatype").asText()).isEqualTo("FP32");
        assertThat(meta.get("inputs").get(0).get("shape").toString()).isEqualTo("[-1,4]");
        assertThat(meta.get("outputs").get(1).get("name").asText()).isEqualTo("prod");

        JsonNode mlp = ServerHarness.json(harness.get("/v2/models/mlp/versions/1"));
        assertThat(mlp.get("versions").toString()).isEqualTo("[\"1\",\"2\"]");

        JsonNode noBatch = ServerHarness.json(harness.get("/v2/models/no_batch"));
        assertThat(noBatch.get("inputs").get(0).get("shape").toString()).isEqualTo("[2,3]");
    }

    @Test
    void modelReadiness() {
        assertThat(harness.get("/v2/models/mlp/ready").statusCode()).isEqualTo(200);
        assertThat(harness.get("/v2/models/mlp/versions/1/ready").statusCode()).isEqualTo(200);
        assertThat(harness.get("/v2/models/mlp/versions/9/ready").statusCode()).isEqualTo(404);
        assertThat(harness.get("/v2/models/nope/ready").statusCode()).isEqualTo(404);
    }

    @Test
    void versionsAreAddressedExplicitlyAndNewestIsDefault() {
        String row = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],\"data\":"
                + "[" + "0.5,".repeat(63) + "0.5]}]}";
        JsonNode v1 = ServerHarness.json(harness.post("/v2/models/mlp/versions/1/infer", row));
        JsonNode v2 = ServerHarness.json(harness.post("/v2/models/mlp/versions/2/infer", row));
        JsonNode latest = ServerHarness.json(harness.post("/v2/models/mlp/infer", row));
        assertThat(v1.get("model_version").asText()).isEqualTo("1");
        assertThat(latest.get("model_version").asText()).isEqualTo("2");
        assertThat(latest.get("outputs")).isEqualTo(v2.get("outputs"));
        assertThat(v1.get("outputs")).isNotEqualTo(v2.get("outputs"));
    }

    @Test
    void theServerAndItsEmbeddedRuntimeAreOnePath() {
        Model mlp = harness.server.runtime().model("mlp");
        float[] row = new float[64];
        Arrays.fill(row, 0.5f);
        long answered = mlp.stats().successCount();

        float[] inProcess = mlp.infer(row).join();
        JsonNode overHttp = ServerHarness.json(harness.post("/v2/models/mlp/infer",
                "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],\"data\":["
                        + "0.5,".repeat(63) + "0.5]}]}"));

        JsonNode data = overHttp.get("outputs").get(0).get("data");
        assertThat(data.size()).isEqualTo(inProcess.length);
        for (int i = 0; i < inProcess.length; i++) {
            assertThat((float) data.get(i).asDouble()).as("output %d", i).isEqualTo(inProcess[i]);
        }
        assertThat(mlp.stats().successCount()).as("one set of statistics for both").isEqualTo(answered + 2);
        assertThat(harness.server.models()).isSameAs(harness.server.runtime().routes());
    }

    @Test
    void requestedOutputSubsetAndNestedData() {
        String body = "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[[1,2,3,4]]},"
                + "{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,1,1,1]}],"
                + "\"outputs\":[{\"name\":\"prod\"}],\"parameters\":{\"anything\":true}}";
        HttpResponse<String> response = harness.post("/v2/models/two_io/infer", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode outputs = ServerHarness.json(response).get("outputs");
        assertThat(outputs.size()).isEqualTo(1);
        assertThat(outputs.get(0).get("name").asText()).isEqualTo("prod");
        assertThat(outputs.get(0).get("data").get(0).asDouble()).isEqualTo(10.0);
        assertThat(ServerHarness.json(response).has("id")).as("no id sent, none echoed").isFalse();
    }

    static Stream<Arguments> badRequests() {
        String mlp = "/v2/models/mlp/infer";
        return Stream.of(
                Arguments.of("malformed JSON", mlp, "{\"inputs\": [", 400, "JSON"),
                Arguments.of("wrong shape", mlp, input("FP32", "[1,63]", 63), 400, "input 'input'"),
                Arguments.of("wrong datatype", mlp, input("INT64", "[1,64]", 64), 400, "FP32"),
                Arguments.of("count vs shape", mlp, input("FP32", "[1,64]", 10), 400, "input"),
                Arguments.of("missing input", "/v2/models/two_io/infer",
                        "{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}", 400, "'b'"),
                Arguments.of("unknown input", mlp,
                        "{\"inputs\":[{\"name\":\"bogus\",\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[1]}]}", 400, "bogus"),
                Arguments.of("unknown output", "/v2/models/no_batch/infer",
                        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}],"
                                + "\"outputs\":[{\"name\":\"nope\"}]}", 400, "nope"),
                Arguments.of("batch over max", "/v2/models/dtypes/infer",
                        "{\"inputs\":[{\"name\":\"x_bool\",\"datatype\":\"BOOL\",\"shape\":[5,3],\"data\":["
                                + "true,".repeat(14) + "true]}]}", 400, "x_bool"),
                Arguments.of("unknown model", "/v2/models/nope/infer", input("FP32", "[1,64]", 64), 404, "nope"),
                Arguments.of("unknown version", "/v2/models/mlp/versions/7/infer", input("FP32", "[1,64]", 64), 404, "7"),
                Arguments.of("predictions malformed", "/predictions/mlp", "[1,2,", 400, ""),
                Arguments.of("predictions wrong shape", "/predictions/mlp", "[1,2,3]", 400, "input"),
                Arguments.of("predictions multi-input model", "/predictions/two_io", "[1,2,3,4]", 400, "two_io"),
                Arguments.of("predictions unknown model", "/predictions/nope", "[1]", 404, "nope"));
    }

    private static String input(String type, String shape, int count) {
        return "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"" + type + "\",\"shape\":" + shape + ",\"data\":["
                + "1,".repeat(count - 1) + "1]}]}";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequestsGetAClearErrorAndNoStackTrace(String what, String path, String body, int status, String mentions) {
        HttpResponse<String> response = harness.post(path, body);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode error = ServerHarness.json(response);
        assertThat(error.get("error").asText()).contains(mentions).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void engineErrorIs500WithTheEnginesMessageAndTheModelKeepsServing() {
        // Ids beyond the embedding table pass validation but fail inside the model.
        String body = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,2],\"data\":[1,1000]}]}";
        HttpResponse<String> response = harness.post("/v2/models/embedding_bag/infer", body);
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(ServerHarness.json(response).get("error").asText()).contains("embedding_bag").doesNotContain("\tat ");

        String good = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,2],\"data\":[1,2]}]}";
        assertThat(harness.post("/v2/models/embedding_bag/infer", good).statusCode()).isEqualTo(200);
    }

    @Test
    void statisticsCountWhatWasServed() {
        long before = successCount("/v2/models/cnn/versions/1/stats");
        String image = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[2,3,32,32],\"data\":["
                + "0.5,".repeat(2 * 3 * 32 * 32 - 1) + "0.5]}]}";
        for (int i = 0; i < 3; i++) {
            assertThat(harness.post("/v2/models/cnn/infer", image).statusCode()).isEqualTo(200);
        }

        JsonNode stats = ServerHarness.json(harness.get("/v2/models/cnn/stats")).get("model_stats").get(0);
        assertThat(stats.get("name").asText()).isEqualTo("cnn");
        assertThat(stats.get("version").asText()).isEqualTo("1");
        assertThat(stats.get("inference_stats").get("success").get("count").asLong()).isEqualTo(before + 3);
        assertThat(stats.get("inference_stats").get("success").get("ns").asLong()).isPositive();
        assertThat(stats.get("inference_stats").get("compute_infer").get("count").asLong()).isEqualTo(before + 3);
        assertThat(stats.get("inference_count").asLong()).as("rows").isEqualTo(2 * (before + 3));
        assertThat(stats.get("execution_count").asLong()).isEqualTo(before + 3);

        JsonNode all = ServerHarness.json(harness.get("/v2/models/stats")).get("model_stats");
        assertThat(all.size()).as("every version of every model").isEqualTo(TestData.versionCount());
        assertThat(harness.get("/v2/models/nope/stats").statusCode()).isEqualTo(404);
    }

    private static long successCount(String path) {
        return ServerHarness.json(harness.get(path)).get("model_stats").get(0).get("inference_stats").get("success")
                .get("count").asLong();
    }

    @Test
    void wrongMethodIs405AndUnknownPathIs404() {
        HttpResponse<String> get = harness.get("/v2/models/mlp/infer");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(ServerHarness.json(get).get("error").asText()).isNotBlank();
        assertThat(harness.send(HttpRequest.newBuilder(harness.base.resolve("/v2/health/live"))
                .DELETE()).statusCode()).isEqualTo(405);
        assertThat(harness.get("/v3/nothing").statusCode()).isEqualTo(404);
    }

    @Test
    void pipelinedAndChunkedRequestsOnOneKeepAliveConnection() throws IOException {
        String first = "[" + "0.25,".repeat(63) + "0.25]";
        String chunk1 = first.substring(0, 100);
        String chunk2 = first.substring(100);
        String requests = "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /predictions/mlp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(chunk1.length()) + "\r\n" + chunk1 + "\r\n"
                + Integer.toHexString(chunk2.length()) + "\r\n" + chunk2 + "\r\n0\r\n\r\n"
                + "GET /v2/models/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        try (Socket socket = new Socket("127.0.0.1", harness.server.httpAddress().getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(requests.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String all = readToEnd(socket.getInputStream());
            int ok1 = all.indexOf("HTTP/1.1 200");
            int ok2 = all.indexOf("HTTP/1.1 200", ok1 + 1);
            int notFound = all.indexOf("HTTP/1.1 404");
            assertThat(ok1).as(all).isGreaterThanOrEqualTo(0);
            assertThat(ok2).as("second answer in order: " + all).isGreaterThan(ok1);
            assertThat(notFound).as("third answer last: " + all).isGreaterThan(ok2);
        }
    }

    @Test
    void bodyOverTheLimitIs413BeforeItIsSent() throws IOException {
        try (ServerHarness small = new ServerHarness(TestData.models(), java.util.List.of("no_batch"), 4096)) {
            try (Socket socket = new Socket("127.0.0.1", small.server.httpAddress().getPort())) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                // Only the headers go out: the answer must come without the 1 MB body.
                out.write(("POST /v2/models/no_batch/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = readHead(socket.getInputStream());
                assertThat(head).startsWith("HTTP/1.1 413");
            }
            assertThat(small.get("/v2/health/live").statusCode()).isEqualTo(200);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            bytes.write(b);
            if (bytes.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                break;
            }
        }
        return bytes.toString(StandardCharsets.US_ASCII);
    }

    private static String readToEnd(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
}
