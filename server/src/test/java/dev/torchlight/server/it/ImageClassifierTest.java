package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code handler: image_classifier} through the real server and engine: the committed photos
 * give the same top-5 classes as PyTorch (testdata/handlers/golden/top5.json, by
 * tools/make_image_fixtures.py), whichever way the image is sent; bad images are 400s.
 */
class ImageClassifierTest {
    static ServerHarness server;
    static JsonNode top5;

    @BeforeAll
    static void start() {
        server = new ServerHarness(TestData.root().resolve("testdata/handlers/models"), List.of(),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
        top5 = TestData.read(TestData.root().resolve("testdata/handlers/golden/top5.json"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static byte[] image(String name) {
        try {
            return Files.readAllBytes(TestData.root().resolve("testdata/images").resolve(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    HttpResponse<String> postBytes(String path, byte[] body, String contentType) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.base.resolve(path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return server.send(b);
    }

    /** The answer's labels in order, and checks its probabilities against PyTorch's. */
    static void assertTop5(JsonNode answer, String image) {
        JsonNode expected = top5.get(image);
        List<String> labels = new ArrayList<>();
        List<Double> probabilities = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = answer.properties().iterator(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            labels.add(e.getKey());
            probabilities.add(e.getValue().asDouble());
        }
        List<String> wanted = new ArrayList<>();
        expected.get("labels").forEach(l -> wanted.add(l.asText()));
        assertThat(labels).as(image).isEqualTo(wanted);
        for (int i = 0; i < 5; i++) {
            // libtorch builds differ in float summation order; 1e-4 absolute is far below any class gap here.
            assertThat(probabilities.get(i)).as(image + " p[" + i + "]")
                    .isCloseTo(expected.get("probabilities").get(i).asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rocket.jpg", "coffee.jpg", "rocket_cmyk.jpg", "coffee_alpha.png", "camera_gray.png"})
    void rawBodyGivesPyTorchsTop5(String image) {
        String type = image.endsWith(".png") ? "image/png" : "image/jpeg";
        HttpResponse<String> r = postBytes("/predictions/classifier", image(image), type);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(r), image);
    }

    @Test
    void scalingKeepsTheModelsHandler() {
        HttpResponse<String> scaled = server.manage("PUT", "/models/classifier?min_worker=2&synchronous=true");
        assertThat(scaled.statusCode()).as(scaled.body()).isEqualTo(200);
        assertThat(ServerHarness.json(server.manage("GET", "/models/classifier")).get(0).get("workers")).hasSize(2);

        // A model that lost its handler would take this JPEG for a malformed tensor.
        HttpResponse<String> r = postBytes("/predictions/classifier", image("rocket.jpg"), "image/jpeg");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(r), "rocket.jpg");
    }

    @Test
    void curlsDefaultsWorkAsWithTorchServe() {
        // curl -T kitten.jpg: PUT, no content type.
        HttpResponse<String> put = server.send(HttpRequest.newBuilder(server.base.resolve("/predictions/classifier"))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(image("coffee.jpg"))));
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(put), "coffee.jpg");
        // curl --data-binary @kitten.jpg: declared as a urlencoded form.
        HttpResponse<String> form = postBytes("/predictions/classifier", image("coffee.jpg"),
                "application/x-www-form-urlencoded");
        assertThat(form.statusCode()).as(form.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(form), "coffee.jpg");
    }

    @Test
    void multipartFormAsTorchServeClientsSendIt() {
        String boundary = "----torchlight-test-boundary";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"data\"; filename=\"rocket.jpg\"\r\n"
                + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(image("rocket.jpg"));
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> r = postBytes("/predictions/classifier/1", body.toByteArray(),
                "multipart/form-data; boundary=" + boundary);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(r), "rocket.jpg");
    }

    @Test
    void base64JsonWithSeveralImagesAnswersEachInOrder() {
        String a = Base64.getEncoder().encodeToString(image("coffee.jpg"));
        String b = Base64.getEncoder().encodeToString(image("rocket.jpg"));
        HttpResponse<String> r = server.post("/predictions/classifier",
                "{\"instances\": [{\"data\": \"" + a + "\"}, {\"b64\": \"" + b + "\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answers = ServerHarness.json(r);
        assertThat(answers.size()).isEqualTo(2);
        assertTop5(answers.get(0), "coffee.jpg");
        assertTop5(answers.get(1), "rocket.jpg");

        HttpResponse<String> one = server.post("/predictions/classifier", "{\"data\": \"" + a + "\"}");
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        assertTop5(ServerHarness.json(one), "coffee.jpg");
    }

    @Test
    void v2BytesInputsGoThroughTheHandler() throws IOException {
        String a = Base64.getEncoder().encodeToString(image("rocket_cmyk.jpg"));
        HttpResponse<String> r = server.post("/v2/models/classifier/infer", "{\"id\": \"q1\", \"inputs\": [{\"name\":"
                + " \"image\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"" + a + "\"]}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = ServerHarness.json(r);
        assertThat(body.get("id").asText()).isEqualTo("q1");
        JsonNode out = body.get("outputs").get(0);
        assertThat(out.get("name").asText()).isEqualTo("predictions");
        assertThat(out.get("datatype").asText()).isEqualTo("BYTES");
        assertTop5(TestData.JSON.readTree(out.get("data").get(0).asText()), "rocket_cmyk.jpg");
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsOwnAnswer() {
        String[] images = {"rocket.jpg", "coffee.jpg", "camera_gray.png", "coffee_alpha.png"};
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String image = images[i % images.length];
            replies.add(server.client.sendAsync(HttpRequest.newBuilder(server.base.resolve("/predictions/classifier"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(image(image))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < replies.size(); i++) {
            HttpResponse<String> r = replies.get(i).join();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertTop5(ServerHarness.json(r), images[i % images.length]);
        }
    }

    @Test
    void truncatedImagesAre400() {
        HttpResponse<String> shipped = postBytes("/predictions/classifier", image("truncated.jpg"), "image/jpeg");
        assertThat(shipped.statusCode()).isEqualTo(400);
        assertThat(error(shipped)).startsWith("the JPEG image ");

        byte[] rocket = image("rocket.jpg");
        HttpResponse<String> half = postBytes("/predictions/classifier", Arrays.copyOf(rocket, rocket.length / 2),
                "image/jpeg");
        assertThat(half.statusCode()).isEqualTo(400);
        assertThat(error(half)).contains("truncated");

        byte[] png = image("coffee_alpha.png");
        HttpResponse<String> cutPng = postBytes("/predictions/classifier", Arrays.copyOf(png, png.length / 2), null);
        assertThat(cutPng.statusCode()).isEqualTo(400);
        assertThat(error(cutPng)).startsWith("the PNG image cannot be decoded");
    }

    @Test
    void hugeDimensionsAreRefusedFromTheHeader() {
        // A PNG header claiming 100000 x 100000 RGB pixels (30 GB decoded) followed by a few bytes.
        HttpResponse<String> r = postBytes("/predictions/classifier", pngHeader(100_000, 100_000), "image/png");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("100000x100000").contains("image.max_pixels");
    }

    @Test
    void wrongTypesAre400() {
        HttpResponse<String> text = postBytes("/predictions/classifier", "hello".getBytes(StandardCharsets.UTF_8),
                "text/plain");
        assertThat(text.statusCode()).isEqualTo(400);
        assertThat(error(text)).contains("text/plain").contains("expected an image");

        HttpResponse<String> gif = postBytes("/predictions/classifier", "GIF89a....".getBytes(StandardCharsets.US_ASCII),
                "image/gif");
        assertThat(gif.statusCode()).isEqualTo(400);
        assertThat(error(gif)).contains("not a JPEG or PNG");

        HttpResponse<String> badBase64 = server.post("/predictions/classifier", "{\"data\": \"***\"}");
        assertThat(badBase64.statusCode()).isEqualTo(400);
        assertThat(error(badBase64)).contains("base64");

        StringBuilder fields = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            fields.append("--b\r\nContent-Disposition: form-data; name=\"f").append(i).append("\"\r\n\r\nx\r\n");
        }
        fields.append("--b--\r\n");
        HttpResponse<String> manyFields = postBytes("/predictions/classifier",
                fields.toString().getBytes(StandardCharsets.US_ASCII), "multipart/form-data; boundary=b");
        assertThat(manyFields.statusCode()).as(manyFields.body()).isEqualTo(400);

        HttpResponse<String> empty = postBytes("/predictions/classifier", new byte[0], "image/jpeg");
        assertThat(empty.statusCode()).isEqualTo(400);
    }

    @Test
    void tooManyImagesForOneBatchIs400() {
        String a = Base64.getEncoder().encodeToString(image("coffee_alpha.png"));
        String nine = String.join(",", java.util.Collections.nCopies(9, "\"" + a + "\""));
        HttpResponse<String> r = server.post("/predictions/classifier", "[" + nine + "]");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("9 items").contains("at most 8");
    }

    @Test
    void benchSendsRealImageFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        for (String image : List.of("rocket.jpg", "coffee_alpha.png")) {
            Files.write(dir.resolve(image), image(image));
        }
        for (dev.torchlight.bench.load.Protocol protocol : List.of(dev.torchlight.bench.load.Protocol.TORCHSERVE,
                dev.torchlight.bench.load.Protocol.V2_JSON)) {
            dev.torchlight.bench.load.LoadOptions options = dev.torchlight.bench.load.LoadOptions
                    .builder(server.base, "classifier").protocol(protocol).imageDir(dir)
                    .concurrency(List.of(2)).warmup(java.time.Duration.ZERO).duration(java.time.Duration.ofSeconds(1))
                    .build();
            java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
            var report = new dev.torchlight.bench.load.LoadBench("test")
                    .run(options, new java.io.PrintStream(progress, true, StandardCharsets.UTF_8));
            var level = report.results().get(0);
            assertThat(level.errors()).as(progress.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(level.requests()).as(protocol.toString()).isPositive();
        }
    }

    static String error(HttpResponse<String> r) {
        return ServerHarness.json(r).get("error").asText();
    }

    static byte[] pngHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        b.putInt(13);
        int crcFrom = b.position();
        b.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), crcFrom, b.position() - crcFrom);
        b.putInt((int) crc.getValue());
        b.putInt(0).put("IDAT".getBytes(StandardCharsets.US_ASCII)).putInt(0);
        return b.array();
    }

}
