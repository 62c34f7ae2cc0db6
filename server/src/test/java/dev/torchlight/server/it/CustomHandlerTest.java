package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.ServerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example custom handler of examples/custom-handler, compiled from its sources and jarred
 * as examples/custom-handler/build.sh does, served by the real server with the real mlp model.
 */
class CustomHandlerTest {
    @TempDir
    static Path temp;
    static Path repository;

    @BeforeAll
    static void buildExample() throws IOException {
        Path example = TestData.root().resolve("examples/custom-handler");
        Path classes = temp.resolve("classes");
        List<String> sources;
        try (Stream<Path> files = Files.walk(example.resolve("src"))) {
            sources = files.filter(p -> p.toString().endsWith(".java")).map(Path::toString).toList();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("--release", "21", "-cp", System.getProperty("java.class.path"),
                "-d", classes.toString()));
        args.addAll(sources);
        assertThat(javac.run(null, null, null, args.toArray(String[]::new))).as("javac").isZero();

        repository = temp.resolve("repository");
        Path model = repository.resolve("scoring");
        Files.createDirectories(model.resolve("1"));
        Files.copy(example.resolve("model/config.yaml"), model.resolve("config.yaml"));
        Files.copy(example.resolve("model/classes.txt"), model.resolve("classes.txt"));
        Files.copy(TestData.models().resolve("mlp/1/model.pt"), model.resolve("1/model.pt"));
        jar(classes, model.resolve("handler.jar"));
    }

    static void jar(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
    }

    static ServerHarness server(boolean allow) {
        return new ServerHarness(new ServerConfig("127.0.0.1", 0, repository, List.of(),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE).withHandlers(new HandlerConfig(allow, 1)));
    }

    static String row(int seed) {
        return IntStream.range(0, 64).mapToObj(i -> Float.toString(((i * 37 + seed * 11) % 19 - 9) / 7f))
                .collect(Collectors.joining(","));
    }

    @Test
    void theExampleHandlerAnswersWhatTheModelComputes() {
        try (ServerHarness server = server(true)) {
            for (int seed = 0; seed < 3; seed++) {
                HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.base.resolve("/predictions/scoring"))
                        .header("Content-Type", "text/csv")
                        .POST(HttpRequest.BodyPublishers.ofString(row(seed))));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode answer = ServerHarness.json(r);

                // The same row as a v2 tensor goes straight to the model (tensors bypass the handler).
                HttpResponse<String> v2 = server.post("/v2/models/scoring/infer", "{\"inputs\": [{\"name\": \"input\","
                        + " \"datatype\": \"FP32\", \"shape\": [1, 64], \"data\": [" + row(seed) + "]}]}");
                assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
                JsonNode scores = ServerHarness.json(v2).get("outputs").get(0).get("data");
                double a = scores.get(0).asDouble();
                double b = scores.get(1).asDouble();
                String label = b > a ? "positive" : "negative";
                double p = 1 / (1 + Math.exp(-Math.abs(a - b)));
                assertThat(answer.get("label").asText()).isEqualTo(label);
                assertThat(answer.get("probability").asDouble()).isCloseTo(p, org.assertj.core.data.Offset.offset(1e-5));
            }
            HttpResponse<String> bad = server.send(HttpRequest.newBuilder(server.base.resolve("/predictions/scoring"))
                    .POST(HttpRequest.BodyPublishers.ofString("1,2,3")));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(ServerHarness.json(bad).get("error").asText()).contains("has 3 values; expected 64");
        }
    }

    @Test
    void customHandlersAreOffUnlessAllowed() {
        try (ServerHarness server = server(false)) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.base.resolve("/predictions/scoring"))
                    .POST(HttpRequest.BodyPublishers.ofString(row(0), StandardCharsets.UTF_8)));
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(ServerHarness.json(r).get("error").asText())
                    .contains("com.example.scoring.CsvScoringHandler").contains("--allow-custom-handlers");
        }
    }

}
