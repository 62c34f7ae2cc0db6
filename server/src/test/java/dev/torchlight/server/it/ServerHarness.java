package dev.torchlight.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.server.runtime.EngineFactory;
import dev.torchlight.server.runtime.TorchlightServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The real server with the real PyTorch engine on an ephemeral port, and a real HTTP client. */
final class ServerHarness implements AutoCloseable {
    final TorchlightServer server;
    final URI base;
    /** The management listener (on an ephemeral port, tokens on). */
    final URI management;
    final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    ServerHarness(Path repository, List<String> models, long maxRequestSize) {
        this(new ServerConfig("127.0.0.1", 0, repository, models, maxRequestSize));
    }

    /** A server with any config; use port 0 for both listeners. */
    ServerHarness(ServerConfig config) {
        this(config, EngineFactory.create());
    }

    /** A server with any config over {@code engine}. */
    ServerHarness(ServerConfig config, Engine engine) {
        server = TorchlightServer.start(config, engine);
        String scheme = config.security().tls() ? "https" : "http";
        base = URI.create(scheme + "://127.0.0.1:" + server.httpAddress().getPort());
        management = URI.create(scheme + "://127.0.0.1:" + server.managementAddress().getPort());
    }

    /** A server whose listeners need no keys at all (management included). */
    static ServerHarness withoutTokens(Path repository, List<String> models) {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, repository, models, ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
        return new ServerHarness(config.withSecurity(new dev.torchlight.config.SecurityConfig(false, false, null,
                List.of(), null, null)));
    }

    static ServerHarness fixtures() {
        return new ServerHarness(TestData.models(), List.of(), ServerConfig.DEFAULT_MAX_REQUEST_SIZE);
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** A management call with the management key (when tokens are on). */
    HttpResponse<String> manage(String method, String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(management.resolve(path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (server.keys() != null) {
            request.header("Authorization", "Bearer " + server.keys().management());
        }
        return send(request);
    }

    HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return client.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return TestData.JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
