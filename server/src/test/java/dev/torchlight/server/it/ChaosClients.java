package dev.torchlight.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.util.concurrent.ListenableFuture;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The clients of {@link ChaosDuringSwapsTest}. Each runs on its own thread and connection(s), sends
 * the golden {@code mlp} request (two rows) back to back until told to stop, and records the one
 * outcome of every request in a {@link ChaosLedger}: a correct answer (its own id, the outputs of the
 * version that answered, never an older version than this client saw before), a refusal with a
 * documented status, or what the client did instead of waiting for the answer. Some requests carry a
 * timeout short enough to pass in the queue now and then.
 */
final class ChaosClients {
    /** Longer than any answer can take, even on a slow machine: a request past it hangs. */
    static final Duration NO_HANG = Duration.ofSeconds(60);
    /** The refusals the server documents for this traffic: queue full or version replaced, timed out. */
    static final Set<Integer> REFUSALS = Set.of(503, 504);
    static final String INFER = "/v2/models/mlp/infer";

    private ChaosClients() {}

    /** The golden request and what each of the two weight files answers to it. */
    record Expected(JsonNode input, float[] ofVersion1, float[] ofVersion2) {
        private static final double TOLERANCE = 1e-4;

        static Expected load() {
            JsonNode one = TestData.read(TestData.root().resolve("testdata/golden/mlp_v1.json"));
            JsonNode two = TestData.read(TestData.root().resolve("testdata/golden/mlp_v2.json"));
            if (!one.get("inputs").equals(two.get("inputs"))) {
                throw new IllegalStateException("the two goldens of mlp must share their inputs");
            }
            return new Expected(one.get("inputs").get(0), floats(one), floats(two));
        }

        private static float[] floats(JsonNode golden) {
            JsonNode data = golden.get("outputs").get(0).get("data");
            float[] out = new float[data.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) data.get(i).asDouble();
            }
            return out;
        }

        /** The weights of {@code version}: {@link ChaosDuringSwapsTest} gives odd versions mlp/1's, even ones mlp/2's. */
        float[] of(long version) {
            return version % 2 == 0 ? ofVersion2 : ofVersion1;
        }

        boolean matches(long version, float[] actual) {
            float[] expected = of(version);
            if (actual.length != expected.length) {
                return false;
            }
            for (int i = 0; i < expected.length; i++) {
                if (Math.abs(actual[i] - expected[i]) > TOLERANCE * Math.max(1, Math.abs(expected[i]))) {
                    return false;
                }
            }
            return true;
        }

        byte[] inputBytes() {
            return GoldenTensors.bytes(input);
        }

        /** A v2 JSON request with {@code id} and, when positive, a timeout in microseconds. */
        String json(String id, long timeoutMicros) {
            ObjectNode request = TestData.JSON.createObjectNode().put("id", id);
            if (timeoutMicros > 0) {
                request.putObject("parameters").put("timeout", timeoutMicros);
            }
            request.putArray("inputs").add(input);
            return request.toString();
        }
    }

    /** One client's loop: a request at a time until stopped, each with one recorded outcome. */
    abstract static class Client implements Runnable {
        final String channel;
        final ChaosLedger ledger;
        final Expected expected;
        final AtomicBoolean stop;
        private long lastVersion;

        Client(String channel, ChaosLedger ledger, Expected expected, AtomicBoolean stop) {
            this.channel = channel;
            this.ledger = ledger;
            this.expected = expected;
            this.stop = stop;
        }

        @Override
        public final void run() {
            for (int i = 0; !stop.get(); i++) {
                try {
                    one(i);
                } catch (RuntimeException | IOException e) {
                    ledger.failure(channel, "request " + i + ": " + e);
                } catch (InterruptedException e) {
                    ledger.failure(channel, "interrupted");
                    return;
                }
            }
        }

        /** Sends request {@code i} and records its outcome. */
        abstract void one(int i) throws IOException, InterruptedException;

        /** Records a 200: the request's own answer, from a version no older than the last one seen. */
        void answered(String outcome, String id, String answerId, long version, float[] outputs) {
            if (!id.equals(answerId)) {
                ledger.failure(channel, "request " + id + " got the answer of " + answerId);
            } else if (version < lastVersion) {
                ledger.failure(channel, "request " + id + " answered by version " + version + " after " + lastVersion);
            } else if (!expected.matches(version, outputs)) {
                ledger.failure(channel, "request " + id + " from version " + version + ": " + Arrays.toString(outputs)
                        + ", expected " + Arrays.toString(expected.of(version)));
            } else {
                lastVersion = version;
                ledger.served(channel, outcome, version);
            }
        }

        /** Records a refusal, which must have a documented status and say why. */
        void refused(int status, String id, String body) {
            if (!REFUSALS.contains(status)) {
                ledger.failure(channel, "request " + id + ": " + status + " " + body);
            } else if (!body.contains("\"error\"")) {
                ledger.failure(channel, "request " + id + ": " + status + " without an error message: " + body);
            } else {
                ledger.outcome(channel, Integer.toString(status));
            }
        }
    }

    /** v2 JSON over a keep-alive HTTP connection; every third request carries a timeout of 1 to 2000 µs. */
    static final class Json extends Client {
        private final HttpClient http;
        private final URI base;

        Json(HttpClient http, URI base, ChaosLedger ledger, Expected expected, AtomicBoolean stop) {
            super("rest-json", ledger, expected, stop);
            this.http = http;
            this.base = base;
        }

        @Override
        void one(int i) throws IOException, InterruptedException {
            send("json-" + Thread.currentThread().threadId() + "-" + i, i % 3 == 0 ? 1 + i % 2000 : 0);
        }

        void send(String id, long timeoutMicros) throws IOException, InterruptedException {
            ledger.sending(channel);
            HttpResponse<String> r;
            try {
                r = http.send(HttpRequest.newBuilder(base.resolve(INFER)).timeout(NO_HANG)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(expected.json(id, timeoutMicros))).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (HttpTimeoutException e) {
                ledger.failure(channel, "request " + id + " hung");
                return;
            }
            if (r.statusCode() != 200) {
                refused(r.statusCode(), id, r.body());
                return;
            }
            JsonNode body = ServerHarness.json(r);
            JsonNode data = body.get("outputs").get(0).get("data");
            float[] out = new float[data.size()];
            for (int k = 0; k < out.length; k++) {
                out[k] = (float) data.get(k).asDouble();
            }
            answered("200", id, body.get("id").asText(), body.get("model_version").asLong(), out);
        }
    }

    /**
     * v2 with the binary tensor extension, binary in and out; every third request carries the
     * {@code X-Request-Timeout-Ms: 1} header.
     */
    static final class Binary extends Client {
        private final HttpClient http;
        private final URI base;

        Binary(HttpClient http, URI base, ChaosLedger ledger, Expected expected, AtomicBoolean stop) {
            super("rest-binary", ledger, expected, stop);
            this.http = http;
            this.base = base;
        }

        @Override
        void one(int i) throws IOException, InterruptedException {
            String id = "binary-" + i;
            byte[] tensor = expected.inputBytes();
            ObjectNode header = TestData.JSON.createObjectNode().put("id", id);
            header.putObject("parameters").put("binary_data_output", true);
            ObjectNode input = header.putArray("inputs").addObject();
            input.put("name", "input").put("datatype", "FP32").set("shape", expected.input().get("shape"));
            input.putObject("parameters").put("binary_data_size", tensor.length);
            byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(json);
            body.writeBytes(tensor);
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(INFER)).timeout(NO_HANG)
                    .header("Content-Type", "application/octet-stream")
                    .header("Inference-Header-Content-Length", Integer.toString(json.length))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
            if (i % 3 == 0) {
                request.header("X-Request-Timeout-Ms", "1");
            }
            ledger.sending(channel);
            HttpResponse<byte[]> r;
            try {
                r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (HttpTimeoutException e) {
                ledger.failure(channel, "request " + id + " hung");
                return;
            }
            if (r.statusCode() != 200) {
                refused(r.statusCode(), id, new String(r.body(), StandardCharsets.UTF_8));
                return;
            }
            int headerLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
            JsonNode reply = TestData.JSON.readTree(Arrays.copyOf(r.body(), headerLength));
            ByteBuffer raw = ByteBuffer.wrap(r.body(), headerLength, r.body().length - headerLength)
                    .order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[raw.remaining() / Float.BYTES];
            for (int k = 0; k < out.length; k++) {
                out[k] = raw.getFloat();
            }
            answered("200", id, reply.get("id").asText(), reply.get("model_version").asLong(), out);
        }
    }

    /**
     * gRPC unary calls with raw contents: every third with a 2 ms deadline, every fifth of the rest
     * cancelled by the client right after it starts (answered if the answer won the race).
     */
    static final class Grpc extends Client {
        private final ManagedChannel grpc;
        private final ModelInferRequest request;

        Grpc(ManagedChannel grpc, ChaosLedger ledger, Expected expected, AtomicBoolean stop) {
            super("grpc", ledger, expected, stop);
            this.grpc = grpc;
            this.request = ModelInferRequest.newBuilder().setModelName("mlp")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                            .addShape(2).addShape(64))
                    .addRawInputContents(com.google.protobuf.ByteString.copyFrom(expected.inputBytes()))
                    .build();
        }

        @Override
        void one(int i) throws InterruptedException {
            String id = "grpc-" + i;
            ModelInferRequest call = request.toBuilder().setId(id).build();
            boolean timed = i % 3 == 0;
            ledger.sending(channel);
            if (!timed && i % 5 == 0) {
                cancelled(id, call);
                return;
            }
            try {
                ModelInferResponse response = GRPCInferenceServiceGrpc.newBlockingStub(grpc)
                        .withDeadlineAfter(timed ? 2 : NO_HANG.toMillis(), TimeUnit.MILLISECONDS)
                        .modelInfer(call);
                answer(id, response);
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED && timed) {
                    ledger.outcome(channel, code.name());
                } else {
                    ledger.failure(channel, "request " + id + ": " + e.getStatus());
                }
            }
        }

        private void cancelled(String id, ModelInferRequest call) throws InterruptedException {
            ListenableFuture<ModelInferResponse> future = GRPCInferenceServiceGrpc.newFutureStub(grpc)
                    .withDeadlineAfter(NO_HANG.toMillis(), TimeUnit.MILLISECONDS).modelInfer(call);
            if (future.cancel(true)) {
                ledger.outcome(channel, "cancelled by the client");
                return;
            }
            try {
                answer(id, future.get(NO_HANG.toMillis(), TimeUnit.MILLISECONDS));
            } catch (ExecutionException | CancellationException | TimeoutException e) {
                ledger.failure(channel, "request " + id + ": " + e);
            }
        }

        private void answer(String id, ModelInferResponse response) {
            ByteBuffer raw = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[raw.remaining() / Float.BYTES];
            for (int k = 0; k < out.length; k++) {
                out[k] = raw.getFloat();
            }
            answered("OK", id, response.getId(), Long.parseLong(response.getModelVersion()), out);
        }
    }

    /**
     * Clients that vanish: each round opens a connection and either sends the headers and half the
     * body then resets it, or sends a whole request then closes without reading the answer; then, as
     * a well-behaved client, one JSON request and its answer (which also paces the rounds).
     */
    static final class Disconnecting extends Client {
        /** What the ledger calls a request closed before its answer was read; the server still answers it. */
        static final String CLOSED = "closed before reading";
        /** What the ledger calls a request whose body was cut off; the server never sees all of it. */
        static final String CUT = "cut off mid-body";

        private final URI base;
        private final Json polite;

        Disconnecting(HttpClient http, URI base, ChaosLedger ledger, Expected expected, AtomicBoolean stop) {
            super("rest-abandoned", ledger, expected, stop);
            this.base = base;
            this.polite = new Json(http, base, ledger, expected, stop);
        }

        @Override
        void one(int i) throws IOException, InterruptedException {
            String body = expected.json("abandoned-" + i, i % 4 == 1 ? 1 + i % 2000 : 0);
            ledger.sending(channel);
            if (i % 2 == 0) {
                cutOff(base, body);
                ledger.outcome(channel, CUT);
            } else {
                closeBeforeReading(base, body);
                ledger.outcome(channel, CLOSED);
            }
            polite.send("polite-" + i, 0);
        }

        /** Sends the headers and half of {@code body}, then resets the connection. */
        static void cutOff(URI base, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            try (Socket socket = new Socket(base.getHost(), base.getPort())) {
                OutputStream out = socket.getOutputStream();
                out.write(head(bytes.length));
                out.write(bytes, 0, bytes.length / 2);
                out.flush();
                socket.setSoLinger(true, 0); // close with a reset, as a killed client's kernel does
            }
        }

        /**
         * Sends the whole request, then closes the connection (an orderly close, so that the request
         * surely arrives: a reset could make the server's kernel drop it unread).
         */
        static void closeBeforeReading(URI base, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            try (Socket socket = new Socket(base.getHost(), base.getPort())) {
                OutputStream out = socket.getOutputStream();
                out.write(head(bytes.length));
                out.write(bytes);
                out.flush();
            }
        }

        private static byte[] head(int length) {
            return ("POST " + INFER + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }
}
