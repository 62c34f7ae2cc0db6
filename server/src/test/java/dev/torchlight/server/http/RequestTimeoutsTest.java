package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.server.inference.InferenceLayer;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Slow clients are cut off: headers or a body that take too long get 408 and a closed connection,
 * a connection with nothing on it closes, and none of it touches a client that sends in time or a
 * request the server is still working on.
 */
class RequestTimeoutsTest {
    private static final Duration SHORT = Duration.ofMillis(400);
    private static final String BODY = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [7]}]}";

    private FakeModelService service;
    private HttpServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() {
        service = new FakeModelService();
        server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 4096, SHORT, SHORT, Duration.ofMillis(800)),
                HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null);
        address = server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        service.close();
    }

    @Test
    void headersThatTakeTooLongGet408AndTheConnectionCloses() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Ty");
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(r.body()).contains("headers did not arrive within 400 ms");
            assertThat(http.closedByServer()).isTrue();
        }
        assertThat(server.timedOutConnections()).containsEntry("headers", 1L);
        assertThat(server.responses().snapshot()).containsEntry(408, 1L);
    }

    @Test
    void aBodyThatTakesTooLongGets408AndTheConnectionCloses() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY.substring(0, 10));
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.body()).contains("body did not arrive within 400 ms of its headers");
            assertThat(http.closedByServer()).isTrue();
        }
        assertThat(server.timedOutConnections()).containsEntry("body", 1L);
    }

    @Test
    void anIdleConnectionClosesWithoutAResponse() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            assertThat(http.closedByServer()).as("closed, with no bytes sent first").isTrue();
        }
        assertThat(server.timedOutConnections()).containsEntry("idle", 1L);
    }

    @Test
    void aClientThatSendsInTimeKeepsItsConnectionAcrossRequests() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            for (int i = 0; i < 3; i++) {
                http.send(RawHttp.post("/v2/models/echo/infer", BODY));
                assertThat(http.read().status()).isEqualTo(200);
                // Waiting less than the idle timeout between requests, but more than the header and body
                // timeouts altogether: only the idle one applies between requests.
                Thread.sleep(SHORT.toMillis() + 100);
            }
        }
        assertThat(server.timedOutConnections()).containsEntry("idle", 0L).containsEntry("headers", 0L);
    }

    @Test
    void aRequestTheServerIsStillWorkingOnIsNotCutOff() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.post("/v2/models/manual/infer", BODY));
            FakeModelService.Pending running = service.pending.poll(10, TimeUnit.SECONDS);
            assertThat(running).isNotNull();
            // Longer than every client timeout while the server holds the request.
            Thread.sleep(3 * SHORT.toMillis());
            running.answer();
            assertThat(http.read().status()).isEqualTo(200);
        }
    }

    @Test
    void manySlowLorisConnectionsAreAllClosed() throws Exception {
        List<RawHttp> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                RawHttp http = new RawHttp(address);
                http.send("GET /v2/health/live HTTP/1.1\r\nH");
                slow.add(http);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            // They keep trickling; the server closes them anyway.
            while (server.openConnections() > 0 && System.nanoTime() < deadline) {
                for (RawHttp http : slow) {
                    try {
                        http.send("x");
                    } catch (java.io.IOException closed) {
                        // expected once the server gave up on it
                    }
                }
                Thread.sleep(50);
            }
            assertThat(server.openConnections()).isZero();
            assertThat(server.timedOutConnections().get("headers")).isEqualTo(200L);
        } finally {
            for (RawHttp http : slow) {
                http.close();
            }
        }
    }

    @Test
    void zeroMeansNoLimit() throws Exception {
        server.close();
        server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 4096, Duration.ZERO, Duration.ZERO, Duration.ZERO),
                HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null);
        address = server.start();
        try (RawHttp http = new RawHttp(address)) {
            http.send("GET /v2/health/live HTTP/1.1\r\nHo");
            http.setReadTimeout(1_000);
            try {
                http.read();
                throw new AssertionError("the server answered a request it had not received");
            } catch (SocketTimeoutException stillWaiting) {
                http.send("st: x\r\n\r\n");
                assertThat(http.read().status()).isEqualTo(200);
            }
        }
    }
}
