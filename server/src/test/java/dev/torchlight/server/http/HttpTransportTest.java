package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.server.http.RawHttp.Response;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** HTTP/1.1 framing over raw sockets: keep-alive, pipelining, chunked bodies, closes and size limits. */
class HttpTransportTest extends ServerTestSupport {

    private static String infer(String id, float value) {
        return "{\"id\": \"" + id + "\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": ["
                + value + "]}]}";
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            for (int i = 0; i < 3; i++) {
                http.send(RawHttp.get("/v2/health/live"));
                Response r = http.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("connection")).isNull();
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.post("/v2/models/addone/infer",
                            "{\"id\": \"first\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\","
                                    + " \"data\": [1, 1, 1, 1]}]}")
                    + RawHttp.get("/v2/models/nope")
                    + RawHttp.post("/v2/models/addone/infer",
                            "{\"id\": \"third\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\","
                                    + " \"data\": [2, 2, 2, 2]}]}"));
            Response first = http.read();
            Response second = http.read();
            Response third = http.read();
            assertThat(JSON.readTree(first.body()).path("id").asText()).isEqualTo("first");
            assertThat(second.status()).isEqualTo(404);
            assertThat(JSON.readTree(third.body()).path("id").asText()).isEqualTo("third");
        }
    }

    @Test
    void aSlowRequestHoldsBackTheOnesPipelinedBehindIt() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.post("/v2/models/manual/infer", infer("slow", 1))
                    + RawHttp.post("/v2/models/addone/infer",
                            "{\"id\": \"fast\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\","
                                    + " \"data\": [1, 2, 3, 4]}]}"));
            FakeModelService.Pending slow = service.pending.poll(10, TimeUnit.SECONDS);
            assertThat(slow).isNotNull();
            // One request in flight per connection: the second has not reached the model yet.
            assertThat(service.received).hasSize(1);
            slow.answer();
            Response first = http.read();
            Response second = http.read();
            assertThat(JSON.readTree(first.body()).path("id").asText()).isEqualTo("slow");
            assertThat(JSON.readTree(second.body()).path("id").asText()).isEqualTo("fast");
        }
    }

    @Test
    void chunkedRequestBody() throws Exception {
        String body = infer("chunked", 5).replace("\"x\"", "\"fp32\"");
        int mid = body.length() / 2;
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
            http.send(chunk(body.substring(0, mid)));
            http.send(chunk(body.substring(mid)) + "0\r\n\r\n");
            Response r = http.read();
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("outputs").get(0).path("data").get(0).asDouble()).isEqualTo(5.0);
            // The connection stays usable.
            http.send(RawHttp.get("/v2/health/live"));
            assertThat(http.read().status()).isEqualTo(200);
        }
    }

    @Test
    void expectContinueUnderTheLimit() throws Exception {
        String body = infer("continued", 3).replace("\"x\"", "\"fp32\"");
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/echo/infer HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: "
                    + body.length() + "\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(100);
            http.send(body);
            Response r = http.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("id").asText()).isEqualTo("continued");
        }
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.get("/v2/health/live", "Connection: close"));
            Response r = http.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(http.closedByServer()).isTrue();
        }
        assertStillLive();
    }

    @Test
    void http10ClosesUnlessKeepAliveIsAsked() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("GET /v2/health/live HTTP/1.0\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(200);
            assertThat(http.closedByServer()).isTrue();
        }
        try (RawHttp http = new RawHttp(address)) {
            http.send("GET /v2/health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response r = http.read();
            assertThat(r.header("connection")).isEqualToIgnoringCase("keep-alive");
            http.send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(200);
        }
    }

    @Test
    void declaredBodyOverTheLimitIsRefusedBeforeItIsSent() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (MAX_REQUEST_SIZE + 1) + "\r\n\r\n");
            Response r = http.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(JSON.readTree(r.body()).path("error").asText())
                    .isEqualTo("request body is larger than the limit of " + MAX_REQUEST_SIZE + " bytes");
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(http.closedByServer()).isTrue();
        }
        assertThat(service.received).isEmpty();
        assertStillLive();
    }

    @Test
    void declaredBodyOverTheLimitWhileTheClientKeepsSending() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            int size = MAX_REQUEST_SIZE * 4;
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nContent-Length: " + size + "\r\n\r\n");
            http.send(new byte[size]); // the server drains it rather than resetting the connection
            Response r = http.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(http.closedByServer()).isTrue();
        }
        assertStillLive();
    }

    @Test
    void expectContinueOverTheLimitIsRefusedWithoutTheBody() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                    + "Content-Length: " + (MAX_REQUEST_SIZE + 1) + "\r\n\r\n");
            Response r = http.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.body()).contains("larger than the limit");
            assertThat(http.closedByServer()).isTrue();
        }
        assertStillLive();
    }

    @Test
    void chunkedBodyOverTheLimitIsRefused() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
            String piece = "x".repeat(8 * 1024);
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            for (int sent = 0; sent <= MAX_REQUEST_SIZE * 2; sent += piece.length()) {
                chunks.writeBytes(chunk(piece).getBytes(StandardCharsets.US_ASCII));
            }
            chunks.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            http.send(chunks.toByteArray());
            Response r = http.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.body()).contains("larger than the limit of " + MAX_REQUEST_SIZE + " bytes");
            assertThat(http.closedByServer()).isTrue();
        }
        assertThat(service.received).isEmpty();
        assertStillLive();
    }

    @Test
    void oversizedRequestPipelinedBehindAnotherKeepsItsPlace() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.post("/v2/models/manual/infer", infer("slow", 1))
                    + "POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nContent-Length: " + (MAX_REQUEST_SIZE + 1)
                    + "\r\n\r\n");
            FakeModelService.Pending slow = service.pending.poll(10, TimeUnit.SECONDS);
            assertThat(slow).isNotNull();
            slow.answer();
            assertThat(http.read().status()).isEqualTo(200);
            assertThat(http.read().status()).isEqualTo(413);
            assertThat(http.closedByServer()).isTrue();
        }
    }

    @Test
    void malformedHttpIsA400AndTheConnectionCloses() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("THIS IS NOT HTTP\r\n\r\n");
            Response r = http.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").asText()).startsWith("malformed HTTP request");
            assertThat(http.closedByServer()).isTrue();
        }
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(400);
            assertThat(http.closedByServer()).isTrue();
        }
        try (RawHttp http = new RawHttp(address)) {
            http.send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(414);
        }
        try (RawHttp http = new RawHttp(address)) {
            http.send("GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(431);
        }
        assertStillLive();
    }

    @Test
    void clientVanishingMidRequestLeavesTheServerServing() throws Exception {
        try (RawHttp http = new RawHttp(address)) {
            http.send("POST /v2/models/addone/infer HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"inp");
        }
        try (RawHttp http = new RawHttp(address)) {
            http.send(RawHttp.post("/v2/models/manual/infer", infer("gone", 1)));
        }
        FakeModelService.Pending orphan = service.pending.poll(10, TimeUnit.SECONDS);
        assertThat(orphan).isNotNull();
        orphan.answer(); // its connection is gone; the write fails quietly
        assertStillLive();
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

}
