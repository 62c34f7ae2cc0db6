package dev.torchlight.bench.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpConnectionTest {
    private final TestHttpServer server = new TestHttpServer();
    private HttpLoadClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
        server.close();
    }

    @Test
    void preparedRequestIsEncodedOnceWithHostAndContentLength() {
        HttpTarget target = HttpTarget.of(URI.create("http://localhost:8080/base/"));
        try (PreparedRequest request = PreparedRequest.of(target, "POST", "/v2/models/m/infer",
                Map.of("Content-Type", "application/json"), "{\"a\":1}".getBytes())) {
            assertThat(request.asString()).isEqualTo("POST /base/v2/models/m/infer HTTP/1.1\r\n"
                    + "Host: localhost:8080\r\nUser-Agent: torchlight-bench\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        }
    }

    @Test
    void targetRejectsWhatIsNotAPlainHttpUrl() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> HttpTarget.of(URI.create("https://localhost:8443")))
                .withMessageContaining("http://HOST:PORT");
        assertThat(HttpTarget.segment("a/b c")).isEqualTo("a%2Fb%20c");
    }

    @Test
    void answersAreDeliveredWithStatusAndKeepAliveOnOneConnection() throws Exception {
        HttpConnection connection = connect(Duration.ofSeconds(5));
        try (PreparedRequest request = get("/v2/health/live")) {
            for (int i = 0; i < 3; i++) {
                Outcome outcome = send(connection, request);
                assertThat(outcome.status).isEqualTo(200);
                assertThat(outcome.keepAlive).isTrue();
            }
            server.mode(TestHttpServer.Mode.UNAVAILABLE);
            assertThat(send(connection, request).status).isEqualTo(503);
        }
        assertThat(server.requests()).isEqualTo(4);
        assertThat(server.uris()).first().isEqualTo("GET /v2/health/live");
    }

    @Test
    void aConnectionClosedMidRequestFailsAsClosed() throws Exception {
        server.mode(TestHttpServer.Mode.CLOSE);
        HttpConnection connection = connect(Duration.ofSeconds(5));
        try (PreparedRequest request = get("/x")) {
            assertThat(send(connection, request).failure).isEqualTo(Failure.CLOSED);
        }
    }

    @Test
    void noAnswerWithinTheTimeoutFailsAsTimeoutAndClosesTheConnection() throws Exception {
        server.mode(TestHttpServer.Mode.HANG);
        HttpConnection connection = connect(Duration.ofMillis(100));
        try (PreparedRequest request = get("/x")) {
            assertThat(send(connection, request).failure).isEqualTo(Failure.TIMEOUT);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (connection.isOpen() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void aRefusedConnectionIsReportedAsAConnectFailure() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        client = new HttpLoadClient(HttpTarget.of(URI.create("http://127.0.0.1:" + port)), 1, Duration.ofSeconds(5));
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        client.connect(new ConnectListener() {
            @Override
            public void onConnected(HttpConnection connection) {
                failed.completeExceptionally(new AssertionError("connected to a closed port"));
            }

            @Override
            public void onConnectFailed(Throwable cause) {
                failed.complete(cause);
            }
        });
        assertThat(failed.get(5, TimeUnit.SECONDS)).isInstanceOf(ConnectException.class);
    }

    private PreparedRequest get(String path) {
        return PreparedRequest.of(client.target(), "GET", path, Map.of(), null);
    }

    private HttpConnection connect(Duration timeout) throws Exception {
        client = new HttpLoadClient(HttpTarget.of(server.url()), 1, timeout);
        CompletableFuture<HttpConnection> connected = new CompletableFuture<>();
        client.connect(new ConnectListener() {
            @Override
            public void onConnected(HttpConnection connection) {
                connected.complete(connection);
            }

            @Override
            public void onConnectFailed(Throwable cause) {
                connected.completeExceptionally(cause);
            }
        });
        return connected.get(5, TimeUnit.SECONDS);
    }

    private static Outcome send(HttpConnection connection, PreparedRequest request) throws Exception {
        CompletableFuture<Outcome> done = new CompletableFuture<>();
        connection.send(request, new ResponseListener() {
            @Override
            public void onResponse(HttpConnection c, int status, boolean keepAlive) {
                done.complete(new Outcome(status, keepAlive, null));
            }

            @Override
            public void onFailure(HttpConnection c, Failure failure, Throwable cause) {
                done.complete(new Outcome(0, false, failure));
            }
        });
        return done.get(5, TimeUnit.SECONDS);
    }

    private record Outcome(int status, boolean keepAlive, Failure failure) {}
}
