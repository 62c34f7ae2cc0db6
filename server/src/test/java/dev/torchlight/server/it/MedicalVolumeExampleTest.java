package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.UnsafeByteOperations;
import dev.torchlight.config.ServerConfig;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * examples/medical-3d at a small size (examples/medical-3d/tiny, made by its make_model.py: a 3D
 * U-Net on 32^3 volumes, stage 1 and stage 2 placed by the model itself, kind: MODEL): the server's
 * logits over REST binary tensors and over gRPC raw contents are the unsplit model's, as PyTorch
 * computed them.
 */
class MedicalVolumeExampleTest {
    static final Path TINY = TestData.root().resolve("examples/medical-3d/tiny");
    /** Relative L2 error allowed: the server freezes the model, PyTorch ran it as scripted. */
    static final double TOLERANCE = 1e-4;

    static ServerHarness harness;
    static JsonNode manifest;
    static byte[] volume;
    static float[] reference;

    @BeforeAll
    static void start() throws IOException {
        manifest = TestData.read(TINY.resolve("manifest.json"));
        JsonNode check = manifest.get("checks").get(0);
        volume = Files.readAllBytes(TINY.resolve(check.get("volume").asText()));
        reference = floats(ByteBuffer.wrap(Files.readAllBytes(TINY.resolve(check.get("reference").asText()))));
        harness = new ServerHarness(TINY.resolve("repo"), List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    static float[] floats(ByteBuffer bytes) {
        float[] values = new float[bytes.remaining() / 4];
        bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    static double relativeError(float[] got, float[] expected) {
        assertThat(got).hasSameSizeAs(expected);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (got[i] - (double) expected[i]) * (got[i] - (double) expected[i]);
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }

    static String model() {
        return manifest.get("name").asText();
    }

    @Test
    void theModelIsLoadedAsSavedOnItsOwnDevices() {
        JsonNode detail = ServerHarness.json(harness.get("/health/detail"));
        JsonNode unet = detail.get("models").get(0);
        assertThat(unet.get("name").asText()).isEqualTo(model());
        assertThat(unet.get("state").asText()).isEqualTo("READY");
        assertThat(unet.get("instances").get(0).get("device").asText()).isEqualTo("model");
    }

    @Test
    void restBinaryTensorsGiveTheUnsplitModelsLogits() throws IOException, InterruptedException {
        JsonNode input = manifest.get("input");
        String header = "{\"inputs\": [{\"name\": \"" + input.get("name").asText() + "\", \"datatype\": \"FP32\","
                + " \"shape\": " + input.get("shape") + ", \"parameters\": {\"binary_data_size\": " + volume.length
                + "}}], \"parameters\": {\"binary_data_output\": true}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = Arrays.copyOf(json, json.length + volume.length);
        System.arraycopy(volume, 0, body, json.length, volume.length);

        HttpResponse<byte[]> response = harness.client.send(
                HttpRequest.newBuilder(harness.base.resolve("/v2/models/" + model() + "/infer"))
                        .header("Content-Type", "application/octet-stream")
                        .header("Inference-Header-Content-Length", Integer.toString(json.length))
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        int headerLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode output = TestData.JSON.readTree(Arrays.copyOf(response.body(), headerLength)).get("outputs").get(0);
        assertThat(output.get("shape")).isEqualTo(manifest.get("output").get("shape"));
        float[] logits = floats(ByteBuffer.wrap(response.body(), headerLength, response.body().length - headerLength));
        assertThat(relativeError(logits, reference)).isLessThan(TOLERANCE);
    }

    @Test
    void grpcRawContentsGiveTheUnsplitModelsLogits() throws InterruptedException {
        ManagedChannel channel = GrpcEndpointsTest.channel(harness);
        try {
            ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(manifest.get("input").get("name").asText())
                    .setDatatype("FP32");
            manifest.get("input").get("shape").forEach(d -> input.addShape(d.asLong()));
            ModelInferResponse reply = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(60, TimeUnit.SECONDS)
                    .modelInfer(ModelInferRequest.newBuilder()
                            .setModelName(model())
                            .addInputs(input)
                            .addRawInputContents(UnsafeByteOperations.unsafeWrap(volume))
                            .build());

            assertThat(reply.getOutputs(0).getShapeList())
                    .containsExactlyElementsOf(manifest.get("output").get("shape").valueStream().map(JsonNode::asLong).toList());
            float[] logits = floats(reply.getRawOutputContents(0).asReadOnlyByteBuffer());
            assertThat(relativeError(logits, reference)).isLessThan(TOLERANCE);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
