package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.server.inference.InferenceLayer;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HttpServerLifecycleTest {

    @Test
    void settingsAreValidated() {
        assertThatThrownBy(() -> new HttpSettings(" ", 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpSettings("127.0.0.1", 70_000, 1)).hasMessageContaining("port");
        assertThatThrownBy(() -> new HttpSettings("127.0.0.1", 0, 0)).hasMessageContaining("maxRequestSize");
        assertThatThrownBy(() -> new HttpSettings("127.0.0.1", 0, 1L << 31)).hasMessageContaining("maxRequestSize");
        assertThat(new HttpSettings("127.0.0.1", 8080, HttpSettings.DEFAULT_MAX_REQUEST_SIZE).maxRequestSize())
                .isEqualTo(64L << 20);
    }

    @Test
    void startReturnsTheBoundPortAndCloseReleasesIt() throws Exception {
        InetSocketAddress address;
        try (FakeModelService service = new FakeModelService();
                HttpServer server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 1024), HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null)) {
            address = server.start();
            assertThat(address.getPort()).isPositive();
            try (RawHttp http = new RawHttp(address)) {
                http.send(RawHttp.get("/v2/health/live"));
                assertThat(http.read().status()).isEqualTo(200);
            }
            assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
        }
        InetSocketAddress closed = address;
        assertThatThrownBy(() -> new RawHttp(closed)).isInstanceOf(ConnectException.class);
    }

    @Test
    void bindingATakenPortFailsClearly() {
        try (FakeModelService service = new FakeModelService();
                HttpServer first = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 1024), HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null)) {
            int port = first.start().getPort();
            try (HttpServer second = new HttpServer("http", new HttpSettings("127.0.0.1", port, 1024), HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null)) {
                assertThatThrownBy(second::start)
                        .isInstanceOf(UncheckedIOException.class)
                        .hasMessageContaining("cannot listen on 127.0.0.1:" + port);
            }
        }
    }

    @Test
    void closeWithoutStartAndTwice() {
        HttpServer server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 1024), HttpServer.inferenceRoutes(new InferenceLayer(new FakeModelService(), null)), null);
        server.close();
        server.close();
        assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeLetsARunningRequestFinish() throws Exception {
        try (FakeModelService service = new FakeModelService()) {
            HttpServer server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 4096), HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null);
            InetSocketAddress address = server.start();
            try (RawHttp http = new RawHttp(address)) {
                http.send(RawHttp.post("/v2/models/manual/infer",
                        "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [7]}]}"));
                FakeModelService.Pending running = service.pending.poll(10, TimeUnit.SECONDS);
                assertThat(running).isNotNull();
                CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
                awaitRefusingConnections(address); // close() has begun and is waiting for the request
                assertThat(closing).isNotDone();
                running.answer();
                RawHttp.Response r = http.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).contains("\"data\":[7.0]");
                closing.get(20, TimeUnit.SECONDS);
                assertThat(http.closedByServer()).isTrue();
            }
        }
    }

    private static void awaitRefusingConnections(InetSocketAddress address) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                new RawHttp(address).close();
            } catch (SocketException refusedOrReset) {
                // Refused, or reset: a connect that raced the close sat in the closing listener's backlog.
                return;
            }
        }
        throw new AssertionError("server kept accepting connections");
    }
}
