package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.server.inference.InferenceLayer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/** One real server on an ephemeral port per test class, over a {@link FakeModelService}. */
abstract class ServerTestSupport {
    static final int MAX_REQUEST_SIZE = 64 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    static FakeModelService service;
    static HttpServer server;
    static InetSocketAddress address;
    static HttpClient client;

    record Reply(int status, HttpResponse<String> raw, JsonNode json) {
        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        String error() {
            return json.path("error").asText(null);
        }
    }

    @BeforeAll
    static void startServer() {
        service = new FakeModelService();
        server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, MAX_REQUEST_SIZE), HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null);
        address = server.start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    @AfterAll
    static void stopServer() {
        server.close();
        service.close();
        client.close();
    }

    @AfterEach
    void resetModels() {
        service.readiness.replaceAll((k, v) -> true);
        service.pending.forEach(FakeModelService.Pending::answer);
        service.pending.clear();
        service.received.clear();
        service.receivedVersions.clear();
        service.stats.clear();
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + address.getPort() + path);
    }

    static Reply get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    static Reply post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static Reply send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = client.send(request.timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.body().isEmpty() ? null : JSON.readTree(response.body());
        if (json != null) {
            assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        }
        return new Reply(response.statusCode(), response, json);
    }

    /** Bad requests must leave the server serving. */
    static void assertStillLive() throws IOException, InterruptedException {
        Reply live = get("/v2/health/live");
        assertThat(live.status()).isEqualTo(200);
        assertThat(live.json().path("live").asBoolean()).isTrue();
    }

    /** An error reply: the status, an {"error"} body with the text, and nothing that looks like a stack trace. */
    static void assertError(Reply reply, int status, String messagePart) throws IOException, InterruptedException {
        assertThat(reply.status()).as(reply.raw().body()).isEqualTo(status);
        assertThat(reply.error()).as(reply.raw().body()).contains(messagePart);
        assertThat(reply.raw().body()).doesNotContain("\tat ").doesNotContain("Exception");
        assertStillLive();
    }
}
