package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.server.cli.Main;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code torchlight archive} makes a file the server loads from its repository, by registration, and remotely. */
class ArchiveTest {
    private static final String ROW = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,64],"
            + "\"data\":[" + "0.5,".repeat(63) + "0.5]}]}";

    @TempDir
    Path dir;

    private ServerHarness harness;
    private HttpServer files;

    @AfterEach
    void close() {
        if (harness != null) {
            harness.close();
        }
        if (files != null) {
            files.stop(0);
        }
    }

    /** Archives the mlp fixture's version 2 as model {@code name}, version {@code version}, into {@code exportDir}. */
    private Path archive(String name, int version, Path exportDir) throws IOException {
        Path config = dir.resolve(name + "-config.yaml");
        Files.writeString(config, Files.readString(TestData.models().resolve("mlp/config.yaml"))
                .replace("name: mlp", "name: " + name));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute("archive",
                "--model-name", name, "--version", Integer.toString(version),
                "--serialized-file", TestData.models().resolve("mlp/2/model.pt").toString(),
                "--config", config.toString(), "--export-path", exportDir.toString());
        assertThat(code).as(err.toString()).isZero();
        Path archive = exportDir.resolve(name + ".tlar");
        assertThat(out.toString().strip()).isEqualTo(archive.toString());
        return archive;
    }

    private ServerHarness start(Path repo, List<String> allowedUrls) {
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, repo, List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null,
                ManagementConfig.ephemeral(), new SecurityConfig(true, false, null, allowedUrls, null, null), 0, dev.torchlight.config.HandlerConfig.defaults()));
        return harness;
    }

    @Test
    void servesArchivesInTheRepositoryAndRegisteredOnes() throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        archive("packed", 4, repo);
        start(repo, List.of());
        HttpResponse<String> answer = harness.post("/v2/models/packed/infer", ROW);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(ServerHarness.json(answer).get("model_version").asText()).isEqualTo("4");

        archive("later", 1, repo);
        HttpResponse<String> registered = harness.manage("POST", "/models?url=later.tlar");
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        assertThat(harness.post("/v2/models/later/infer", ROW).statusCode()).isEqualTo(200);

        Files.write(repo.resolve("broken.tlar"), new byte[] {'P', 'K', 3, 4, 0});
        HttpResponse<String> broken = harness.manage("POST", "/models?url=broken.tlar");
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).contains("broken.tlar");
    }

    @Test
    void fetchesOnlyFromAllowedUrls() throws IOException {
        Path exported = archive("remote", 1, Files.createDirectories(dir.resolve("export")));
        byte[] bytes = Files.readAllBytes(exported);
        AtomicInteger hits = new AtomicInteger();
        files = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        files.createContext("/", exchange -> {
            hits.incrementAndGet();
            boolean known = exchange.getRequestURI().getPath().equals("/remote.tlar");
            exchange.sendResponseHeaders(known ? 200 : 404, known ? bytes.length : -1);
            try (OutputStream body = exchange.getResponseBody()) {
                if (known) {
                    body.write(bytes);
                }
            }
        });
        files.start();
        String base = "http://127.0.0.1:" + files.getAddress().getPort();
        Path repo = Files.createDirectories(dir.resolve("repo"));

        start(repo, List.of("http://127\\.0\\.0\\.1:" + files.getAddress().getPort() + "/remote\\.tlar"));
        HttpResponse<String> notAllowed = harness.manage("POST", "/models?url=" + base + "/other.tlar");
        assertThat(notAllowed.statusCode()).isEqualTo(403);
        assertThat(hits).as("nothing is fetched from an address no pattern allows").hasValue(0);

        HttpResponse<String> fetched = harness.manage("POST", "/models?url=" + base + "/remote.tlar");
        assertThat(fetched.statusCode()).as(fetched.body()).isEqualTo(200);
        assertThat(hits).hasValue(1);
        assertThat(harness.post("/v2/models/remote/infer", ROW).statusCode()).isEqualTo(200);
    }
}
