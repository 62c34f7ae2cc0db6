package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The v2 binary tensor extension over the real HTTP front end: byte-exact round trips for every
 * datatype through a model that echoes its inputs, mixed JSON and binary inputs and outputs, and
 * a 400 naming the problem for every malformed length or size.
 */
class BinaryTensorsTest extends ServerTestSupport {
    private static final String LENGTH = "Inference-Header-Content-Length";
    private static final String[] TYPES = {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64"};

    record BinaryReply(int status, String contentType, String headerLength, JsonNode header, byte[] binary) {}

    static int size(String type) {
        return switch (type) {
            case "BOOL", "UINT8", "INT8" -> 1;
            case "INT16", "FP16", "BF16" -> 2;
            case "INT32", "FP32" -> 4;
            default -> 8;
        };
    }

    static byte[] body(String json, byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static HttpResponse<byte[]> postBinary(String path, byte[] body, String headerLength)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/octet-stream")
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headerLength != null) {
            request.header(LENGTH, headerLength);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static BinaryReply binary(HttpResponse<byte[]> response) throws IOException {
        String length = response.headers().firstValue(LENGTH).orElse(null);
        byte[] body = response.body();
        int json = length == null ? body.length : Integer.parseInt(length);
        return new BinaryReply(response.statusCode(), response.headers().firstValue("content-type").orElse(null),
                length, JSON.readTree(Arrays.copyOf(body, json)), Arrays.copyOfRange(body, json, body.length));
    }

    @Test
    void everyDatatypeRoundTripsByteForByte() throws Exception {
        Random random = new Random(7);
        Map<String, byte[]> sent = new LinkedHashMap<>();
        StringBuilder inputs = new StringBuilder();
        for (String type : TYPES) {
            int n = 5;
            byte[] bytes = new byte[n * size(type)];
            random.nextBytes(bytes);
            if (type.equals("BOOL")) {
                for (int i = 0; i < n; i++) {
                    bytes[i] = (byte) (bytes[i] & 1);
                }
            }
            String name = type.toLowerCase(Locale.ROOT);
            sent.put(name, bytes);
            inputs.append(inputs.isEmpty() ? "" : ",").append("{\"name\":\"").append(name)
                    .append("\",\"datatype\":\"").append(type).append("\",\"shape\":[").append(n)
                    .append("],\"parameters\":{\"binary_data_size\":").append(bytes.length).append("}}");
        }
        String json = "{\"id\":\"rt\",\"parameters\":{\"binary_data_output\":true},\"inputs\":[" + inputs + "]}";
        byte[] body = body(json, sent.values().toArray(byte[][]::new));

        BinaryReply reply = binary(postBinary("/v2/models/echo/infer", body,
                Integer.toString(json.getBytes(StandardCharsets.UTF_8).length)));

        assertThat(reply.status()).as(reply.header().toString()).isEqualTo(200);
        assertThat(reply.contentType()).isEqualTo("application/octet-stream");
        assertThat(reply.header().path("id").asText()).isEqualTo("rt");
        int offset = 0;
        for (JsonNode output : reply.header().path("outputs")) {
            String name = output.path("name").asText();
            int n = output.path("parameters").path("binary_data_size").asInt();
            assertThat(output.has("data")).isFalse();
            assertThat(Arrays.copyOfRange(reply.binary(), offset, offset + n)).as(name).isEqualTo(sent.get(name));
            offset += n;
        }
        assertThat(offset).isEqualTo(reply.binary().length)
                .isEqualTo(sent.values().stream().mapToInt(b -> b.length).sum());
        assertThat(reply.header().path("outputs")).hasSize(TYPES.length);
    }

    @Test
    void jsonAndBinaryInputsAndOutputsMix() throws Exception {
        byte[] a = {1, 0, 0, 0, 2, 0, 0, 0};
        String json = "{\"inputs\":["
                + "{\"name\":\"int32\",\"datatype\":\"INT32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":8}},"
                + "{\"name\":\"fp32\",\"datatype\":\"FP32\",\"shape\":[2],\"data\":[1.5,2.5]},"
                + "{\"name\":\"uint8\",\"datatype\":\"UINT8\",\"shape\":[3],\"parameters\":{\"binary_data_size\":3}}],"
                + "\"outputs\":[{\"name\":\"uint8\",\"parameters\":{\"binary_data\":true}},"
                + "{\"name\":\"int32\",\"parameters\":{\"binary_data\":false}},{\"name\":\"fp32\"}]}";
        byte[] body = body(json, a, new byte[] {7, 8, (byte) 255});

        BinaryReply reply = binary(postBinary("/v2/models/echo/infer", body, Integer.toString(json.length())));

        assertThat(reply.status()).isEqualTo(200);
        Map<String, JsonNode> outputs = new LinkedHashMap<>();
        reply.header().path("outputs").forEach(o -> outputs.put(o.path("name").asText(), o));
        assertThat(outputs).containsOnlyKeys("uint8", "int32", "fp32");
        assertThat(outputs.get("uint8").path("parameters").path("binary_data_size").asInt()).isEqualTo(3);
        assertThat(outputs.get("uint8").has("data")).isFalse();
        assertThat(outputs.get("int32").path("data").toString()).isEqualTo("[1,2]");
        assertThat(outputs.get("fp32").path("data").toString()).isEqualTo("[1.5,2.5]");
        assertThat(reply.binary()).containsExactly(7, 8, 255);
        assertThat(Integer.parseInt(reply.headerLength())).isEqualTo(
                reply.header().toString().getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void aJsonRequestMayAskForBinaryOutputsAndABinaryRequestMayGetJson() throws Exception {
        String json = "{\"parameters\":{\"binary_data_output\":true},"
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}";
        BinaryReply binaryOut = binary(postBinary("/v2/models/addone/infer", body(json), null));
        assertThat(binaryOut.status()).isEqualTo(200);
        assertThat(binaryOut.contentType()).isEqualTo("application/octet-stream");
        assertThat(binaryOut.binary()).hasSize(16);
        assertThat(java.nio.ByteBuffer.wrap(binaryOut.binary()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat(12))
                .isEqualTo(6f);

        byte[] four = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putFloat(1).putFloat(2).putFloat(3).putFloat(4).array();
        String header = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                + "\"parameters\":{\"binary_data_size\":16}}]}";
        HttpResponse<byte[]> jsonOut = postBinary("/v2/models/addone/infer", body(header, four),
                Integer.toString(header.length()));
        assertThat(jsonOut.statusCode()).isEqualTo(200);
        assertThat(jsonOut.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(jsonOut.headers().firstValue(LENGTH)).isEmpty();
        assertThat(JSON.readTree(jsonOut.body()).path("outputs").get(0).path("data").toString())
                .isEqualTo("[3.0,4.0,5.0,6.0]");
    }

    @Test
    void malformedLengthsAndSizesAre400WithTheReason() throws Exception {
        String one = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                + "\"parameters\":{\"binary_data_size\":16}}]}";
        byte[] good = body(one, new byte[16]);
        String len = Integer.toString(one.length());
        String path = "/v2/models/addone/infer";

        assertBad(postBinary(path, good, "abc"), "Inference-Header-Content-Length must be the JSON header's length");
        assertBad(postBinary(path, good, "-1"), "must be the JSON header's length");
        assertBad(postBinary(path, good, "99999999999999"), "must be the JSON header's length");
        assertBad(postBinary(path, good, Integer.toString(good.length + 1)), "but the body has only " + good.length);
        assertBad(postBinary(path, good, Integer.toString(one.length() - 5)), "");
        assertBad(postBinary(path, body(one, new byte[10]), len),
                "has binary_data_size 16, but only 10 bytes of binary data are left");
        assertBad(postBinary(path, body(one, new byte[20]), len),
                "the body has 20 bytes of binary data after the JSON header, but the inputs' binary_data_size add up to 16");
        assertBad(postBinary(path, body(one), len), "only 0 bytes of binary data are left");
        String wrongSize = one.replace("16", "12");
        assertBad(postBinary(path, body(wrongSize, new byte[12]), Integer.toString(wrongSize.length())),
                "needs 16 bytes, but its binary_data_size is 12");
        String notNumber = one.replace("16", "\"16\"");
        assertBad(postBinary(path, body(notNumber, new byte[16]), Integer.toString(notNumber.length())),
                "'parameters.binary_data_size' must be a non-negative integer number of bytes");
        String both = one.replace("\"parameters\"", "\"data\":[1,2,3,4],\"parameters\"");
        assertBad(postBinary(path, body(both, new byte[16]), Integer.toString(both.length())),
                "has both 'data' and 'parameters.binary_data_size'");
        String badFlag = one.replace("]}", "],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":1}}]}");
        assertBad(postBinary(path, body(badFlag, new byte[16]), Integer.toString(badFlag.length())),
                "'parameters.binary_data' must be true or false");
    }

    private static void assertBad(HttpResponse<byte[]> response, String message) throws IOException, InterruptedException {
        String body = new String(response.body(), StandardCharsets.UTF_8);
        assertThat(response.statusCode()).as(body).isEqualTo(400);
        assertThat(JSON.readTree(body).path("error").asText()).as(body).contains(message);
        assertStillLive();
    }
}
