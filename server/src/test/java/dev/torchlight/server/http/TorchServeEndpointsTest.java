package dev.torchlight.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.Tensor;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

/** TorchServe's /ping and /predictions end to end over a real socket, with a fake model service. */
class TorchServeEndpointsTest extends ServerTestSupport {

    @Test
    void pingFollowsReadinessWithTorchServesBodies() throws Exception {
        Reply healthy = get("/ping");
        assertThat(healthy.status()).isEqualTo(200);
        assertThat(healthy.json()).isEqualTo(JSON.readTree("{\"status\": \"Healthy\"}"));
        service.setReady("echo", false);
        Reply unhealthy = get("/ping");
        assertThat(unhealthy.status()).isEqualTo(500);
        assertThat(unhealthy.json()).isEqualTo(JSON.readTree("{\"status\": \"Unhealthy\"}"));
    }

    @Test
    void oneItemGetsABatchOfOneAndLosesItAgain() throws Exception {
        Reply r = post("/predictions/addone", "[1, 2, 3, 4]");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("[3.0, 4.0, 5.0, 6.0]"));
        Tensor sent = service.received.get(0).inputs().get(0);
        assertThat(sent.name()).isEqualTo("x");
        assertThat(sent.shape()).containsExactly(1, 4);
    }

    @Test
    void aBatchPassesThrough() throws Exception {
        Reply r = post("/predictions/addone", "[[1, 2, 3, 4], [5, 6, 7, 8]]");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("[[3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0, 10.0]]"));
        Reply one = post("/predictions/addone", "[[1, 2, 3, 4]]");
        assertThat(one.json()).isEqualTo(JSON.readTree("[[3.0, 4.0, 5.0, 6.0]]"));
    }

    @Test
    void explicitVersion() throws Exception {
        assertThat(post("/predictions/addone/1", "[1, 2, 3, 4]").json()).isEqualTo(JSON.readTree("[2.0, 3.0, 4.0, 5.0]"));
        assertThat(service.receivedVersions.get(0)).isEqualTo(1L);
        assertError(post("/predictions/addone/v1", "[1, 2, 3, 4]"), 404, "model 'addone' has no version 'v1'");
        assertError(post("/predictions/addone/5", "[1, 2, 3, 4]"), 404, "has no version '5'; versions: [1, 2]");
    }

    @Test
    void unbatchedModelTakesTheDeclaredShape() throws Exception {
        Reply r = post("/predictions/doubler", "[[1, 2], [3, 4], [5, 6]]");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("[[2, 4], [6, 8], [10, 12]]"));
        assertThat(service.received.get(0).inputs().get(0).shape()).containsExactly(3, 2);
        assertError(post("/predictions/doubler", "[1, 2]"), 400,
                "input 'x' takes shape [-1, 2] (-1: any size); the body has shape [2]");
    }

    @Test
    void wrongShapesForABatchedModelNameBothForms() throws Exception {
        assertError(post("/predictions/addone", "[1, 2, 3]"), 400,
                "input 'x' takes one item of shape [4] or a batch of up to 8 items, shape [n, 4] (-1: any size);"
                        + " the body has shape [3]");
        assertError(post("/predictions/addone", "[[[1, 2, 3, 4]]]"), 400, "the body has shape [1, 1, 4]");
    }

    @Test
    void severalOutputsAnswerAnObject() throws Exception {
        Reply r = post("/predictions/split", "[10, 20]");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json()).isEqualTo(JSON.readTree("{\"first\": 10, \"second\": 20}"));
        Reply batch = post("/predictions/split", "[[1, 2], [3, 4]]");
        assertThat(batch.json()).isEqualTo(JSON.readTree("{\"first\": [1, 3], \"second\": [2, 4]}"));
    }

    @Test
    void severalInputsPointToV2() throws Exception {
        assertError(post("/predictions/pair", "[1, 2]"), 400,
                "/predictions needs a model with exactly one input; model 'pair' has 2 [a, b]: use POST /v2/models/pair/infer");
        assertThat(service.received).isEmpty();
    }

    @Test
    void datatypeComesFromTheModel() throws Exception {
        assertError(post("/predictions/split", "[1.5, 2]"), 400, "input 'x': element 0 is 1.5, expected an integer for INT64");
        assertError(post("/predictions/doubler", "[[1, 2], [3, 3000000000]]"), 400, "out of range for INT32");
    }

    @Test
    void badBodies() throws Exception {
        assertError(post("/predictions/addone", ""), 400, "the body is empty; expected a JSON array for input 'x'");
        assertError(post("/predictions/addone", "[1, 2, 3, 4"), 400, "malformed JSON at line 1");
        assertError(post("/predictions/addone", "[1, 2, 3, 4] 5"), 400, "unexpected content after the JSON array");
        assertError(post("/predictions/addone", "{\"data\": [1, 2, 3, 4]}"), 400, "element 0 is an object");
        assertError(post("/predictions/addone", "[[1, 2, 3, 4], [1]]"), 400, "not rectangular");
    }

    @Test
    void unknownModelNotReadyAndWrongMethod() throws Exception {
        assertError(post("/predictions/nope", "[1]"), 404, "unknown model 'nope'");
        service.setReady("addone", false);
        assertError(post("/predictions/addone", "[1, 2, 3, 4]"), 503, "is loading");
        Reply get = get("/predictions/addone");
        assertError(get, 405, "use POST");
        assertThat(get.header("Allow")).isEqualTo("POST");
        assertError(post("/predictions", "[1]"), 404, "no such endpoint");
        assertError(post("/predictions/addone/1/extra", "[1]"), 404, "no such endpoint");
        assertError(post("/ping", ""), 405, "use GET");
    }

    @Test
    void timeoutAndPriorityHeadersApply() throws Exception {
        Reply plain = post("/predictions/addone", "[1, 2, 3, 4]");
        assertThat(plain.status()).isEqualTo(200);
        assertThat(service.received.get(0).timeoutMicros()).isZero();
        assertThat(service.received.get(0).priority()).isZero();

        Reply r = send(HttpRequest.newBuilder(uri("/predictions/addone"))
                .header("Content-Type", "application/json")
                .header("X-Request-Timeout-Ms", "25")
                .header("X-Request-Priority", "1")
                .POST(HttpRequest.BodyPublishers.ofString("[1, 2, 3, 4]")));

        assertThat(r.status()).isEqualTo(200);
        assertThat(service.received.get(1).timeoutMicros()).isEqualTo(25_000);
        assertThat(service.received.get(1).priority()).isEqualTo(1);
    }

    @Test
    void badHeadersAre400sNamingThem() throws Exception {
        assertError(send(HttpRequest.newBuilder(uri("/predictions/addone"))
                .header("X-Request-Priority", "urgent")
                .POST(HttpRequest.BodyPublishers.ofString("[1, 2, 3, 4]"))), 400,
                "X-Request-Priority must be a priority level (a non-negative integer, 1 = highest), got 'urgent'");
        assertError(send(HttpRequest.newBuilder(uri("/predictions/addone"))
                .header("X-Request-Timeout-Ms", "1e3")
                .POST(HttpRequest.BodyPublishers.ofString("[1, 2, 3, 4]"))), 400,
                "X-Request-Timeout-Ms must be");
        assertThat(service.received).isEmpty();
    }
}
