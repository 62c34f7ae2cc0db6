package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fixture model over binary REST (binary inputs, binary outputs) gives PyTorch's own numbers. */
class BinaryRestGoldenTest {
    static ServerHarness harness;

    @BeforeAll
    static void start() {
        harness = ServerHarness.fixtures();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    static Stream<Path> goldens() {
        return TestData.goldens().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void binaryInferMatchesPyTorch(Path goldenFile) throws IOException, InterruptedException {
        JsonNode golden = TestData.read(goldenFile);
        ObjectNode header = TestData.JSON.createObjectNode();
        header.putObject("parameters").put("binary_data_output", true);
        ArrayNode inputs = header.putArray("inputs");
        ByteArrayOutputStream binary = new ByteArrayOutputStream();
        for (JsonNode input : golden.get("inputs")) {
            byte[] bytes = GoldenTensors.bytes(input);
            ObjectNode in = inputs.addObject();
            in.put("name", input.get("name").asText());
            in.put("datatype", input.get("datatype").asText());
            in.set("shape", input.get("shape"));
            in.putObject("parameters").put("binary_data_size", bytes.length);
            binary.writeBytes(bytes);
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(json);
        body.writeBytes(binary.toByteArray());
        String path = "/v2/models/" + golden.get("model").asText() + "/versions/" + golden.get("version").asInt() + "/infer";

        HttpResponse<byte[]> response = harness.client.send(HttpRequest.newBuilder(harness.base.resolve(path))
                .header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(json.length))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                .build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        int headerLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode reply = TestData.JSON.readTree(Arrays.copyOf(response.body(), headerLength));
        ByteBuffer rest = ByteBuffer.wrap(response.body(), headerLength, response.body().length - headerLength);
        ArrayNode outputs = TestData.JSON.createArrayNode();
        for (JsonNode output : reply.get("outputs")) {
            int size = output.get("parameters").get("binary_data_size").asInt();
            ObjectNode o = outputs.addObject();
            o.set("name", output.get("name"));
            o.set("datatype", output.get("datatype"));
            o.set("shape", output.get("shape"));
            ByteBuffer slice = rest.slice(rest.position(), size);
            rest.position(rest.position() + size);
            o.set("data", GoldenTensors.values(output.get("datatype").asText(), slice));
        }
        assertThat(rest.hasRemaining()).isFalse();
        GoldenOutputsTest.assertOutputsEqual(outputs, golden.get("outputs"));
    }
}
