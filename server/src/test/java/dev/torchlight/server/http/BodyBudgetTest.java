package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.server.inference.InferenceLayer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Request bodies held by a listener stay within its in-flight budget: a request that does not fit is
 * refused with 503 before its body is read, and the budget comes back when responses are written or
 * connections close.
 */
class BodyBudgetTest {
    private static final String REQUEST = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [7]}]}";
    /** The request padded with JSON whitespace to 1,000 bytes. */
    private static final String BODY = REQUEST + " ".repeat(1000 - REQUEST.length());

    private FakeModelService service;
    private HttpServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() {
        service = new FakeModelService();
        server = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 1024, Duration.ofSeconds(10),
                Duration.ofSeconds(10), Duration.ofSeconds(60), 2048),
                HttpServer.inferenceRoutes(new InferenceLayer(service, null)), null);
        address = server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        service.close();
    }

    @Test
    void aBodyThatDoesNotFitIsRefusedWith503UntilRoomIsMade() throws Exception {
        try (RawHttp first = new RawHttp(address); RawHttp second = new RawHttp(address);
                RawHttp third = new RawHttp(address)) {
            first.send(RawHttp.post("/v2/models/manual/infer", BODY));
            second.send(RawHttp.post("/v2/models/manual/infer", BODY));
            FakeModelService.Pending one = service.pending.poll(10, TimeUnit.SECONDS);
            FakeModelService.Pending two = service.pending.poll(10, TimeUnit.SECONDS);
            assertThat(one).isNotNull();
            assertThat(two).isNotNull();
            assertThat(server.inflightBodyBytes()).isEqualTo(2000);

            third.send(RawHttp.post("/v2/models/manual/infer", BODY));
            RawHttp.Response refused = third.read();
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.header("retry-after")).isEqualTo("1");
            assertThat(refused.body()).contains("--max-inflight-bytes");
            assertThat(third.closedByServer()).isTrue();

            one.answer();
            assertThat(first.read().status()).isEqualTo(200);
            awaitHeld(server::inflightBodyBytes, 1000);
            try (RawHttp fourth = new RawHttp(address)) {
                fourth.send(RawHttp.post("/v2/models/echo/infer", BODY));
                assertThat(fourth.read().status()).as("room again after an answer").isEqualTo(200);
            }
            two.answer();
            assertThat(second.read().status()).isEqualTo(200);
        }
        awaitHeld(server::inflightBodyBytes, 0);
    }

    @Test
    void aChunkedBodyIsCountedAsItArrives() throws Exception {
        try (RawHttp held = new RawHttp(address); RawHttp http = new RawHttp(address)) {
            held.send(RawHttp.post("/v2/models/manual/infer", BODY));
            FakeModelService.Pending pending = service.pending.poll(10, TimeUnit.SECONDS);
            assertThat(pending).isNotNull();
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            String chunk = " ".repeat(500);
            // 1,000 held + 500 + 500 fits in 2,048; the third chunk does not (and the body, 1,500 bytes,
            // would only then cross the 1,024-byte size limit).
            for (int i = 0; i < 3; i++) {
                http.send(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            }
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(503);
            assertThat(http.closedByServer()).isTrue();
            pending.answer();
            assertThat(held.read().status()).isEqualTo(200);
        }
        awaitHeld(server::inflightBodyBytes, 0);
    }

    @Test
    void aClientThatLeavesMidBodyGivesItsBytesBack() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n" + BODY.substring(0, 100));
            awaitHeld(server::inflightBodyBytes, 1000);
        }
        awaitHeld(server::inflightBodyBytes, 0);
    }

    private static void awaitHeld(LongSupplier held, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(held.getAsLong()).isEqualTo(expected);
    }
}
