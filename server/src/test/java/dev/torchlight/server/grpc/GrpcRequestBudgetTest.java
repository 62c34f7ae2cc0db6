package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.server.StubVersion;
import dev.torchlight.server.http.HttpServer;
import dev.torchlight.server.http.HttpSettings;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.transport.ByteBudget;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import inference.ModelStreamInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * gRPC request messages stay within the in-flight budget: a message that does not fit fails its call
 * with UNAVAILABLE, and the bytes come back when responses are sent, calls are cancelled, or (on a
 * stream) each message is answered. The real server and client; the model holds each request until
 * the test answers it.
 */
class GrpcRequestBudgetTest {
    /** A request of 1,000 raw bytes; its message is a little larger. */
    private static final ModelInferRequest REQUEST = ModelInferRequest.newBuilder()
            .setModelName("m")
            .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(250))
            .addRawInputContents(ByteString.copyFrom(new byte[1000]))
            .build();
    private static final long SIZE = REQUEST.getSerializedSize();

    private final HeldService service = new HeldService();
    private GrpcServer server;
    private ManagedChannel channel;

    /** A server whose budget holds two requests but not three. */
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceStub start(ByteBudget budget) {
        server = new GrpcServer(new GrpcSettings("127.0.0.1", 0, 2 * SIZE, Duration.ofSeconds(10),
                Duration.ofSeconds(60), budget.capacity()), new InferenceLayer(StubVersion.serving(service), null),
                null, List.of(), budget);
        int port = server.start().getPort();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        return GRPCInferenceServiceGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aMessageThatDoesNotFitIsRefusedUnavailableUntilRoomIsMade() throws Exception {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = start(new ByteBudget(2 * SIZE + SIZE / 2));
        var blocking = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        Answers first = unary(stub);
        Held one = service.next();
        Answers second = unary(stub);
        Held two = service.next();
        assertThat(server.inflightRequestBytes()).isEqualTo(2 * SIZE);

        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Logger streamLog = Logger.getLogger(GrpcRequestBudget.STREAM_LOGGER);
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        streamLog.addHandler(capture);
        try {
            assertThatThrownBy(() -> blocking.modelInfer(REQUEST))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("--max-inflight-bytes");
                    });
        } finally {
            streamLog.removeHandler(capture);
        }
        assertThat(logged).as("the refusal is not logged as a transport failure").isEmpty();
        assertThat(service.requests).as("the refused message never reached the model").isEmpty();

        one.answer();
        assertThat(first.response.get(10, TimeUnit.SECONDS).getRawOutputContentsCount()).isOne();
        awaitHeld(server::inflightRequestBytes, SIZE);
        Answers third = unary(stub);
        service.next().answer();
        assertThat(third.response.get(10, TimeUnit.SECONDS).getRawOutputContentsCount())
                .as("room again after an answer").isOne();
        two.answer();
        second.response.get(10, TimeUnit.SECONDS);
        awaitHeld(server::inflightRequestBytes, 0);
    }

    @Test
    void aCancelledCallGivesItsBytesBack() throws Exception {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = start(new ByteBudget(2 * SIZE));
        Answers call = unary(stub);
        Held held = service.next();
        assertThat(server.inflightRequestBytes()).isEqualTo(SIZE);

        call.cancel();
        awaitHeld(server::inflightRequestBytes, 0);
        held.answer(); // too late: nobody to answer, and nothing given back twice
        awaitHeld(server::inflightRequestBytes, 0);
    }

    @Test
    void aStreamGivesBackEachMessageOnceItIsAnsweredAndTheRestWhenCancelled() throws Exception {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = start(new ByteBudget(2 * SIZE));
        BlockingQueue<ModelStreamInferResponse> responses = new LinkedBlockingQueue<>();
        CompletableFuture<ClientCallStreamObserver<ModelInferRequest>> requests = new CompletableFuture<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        var stream = stub.modelStreamInfer(new ClientResponseObserver<ModelInferRequest, ModelStreamInferResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ModelInferRequest> observer) {
                requests.complete(observer);
            }

            @Override
            public void onNext(ModelStreamInferResponse response) {
                responses.add(response);
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        });
        for (int i = 0; i < 5; i++) {
            stream.onNext(REQUEST);
            service.next().answer();
            assertThat(responses.poll(10, TimeUnit.SECONDS)).as("response %d", i).isNotNull();
            awaitHeld(server::inflightRequestBytes, 0);
        }

        stream.onNext(REQUEST);
        stream.onNext(REQUEST);
        Held one = service.next();
        service.next();
        assertThat(server.inflightRequestBytes()).isEqualTo(2 * SIZE);
        one.answer();
        assertThat(responses.poll(10, TimeUnit.SECONDS)).isNotNull();
        awaitHeld(server::inflightRequestBytes, SIZE);

        requests.get(10, TimeUnit.SECONDS).cancel("the client gives up", null);
        assertThat(ended.get(10, TimeUnit.SECONDS)).isInstanceOf(StatusRuntimeException.class);
        awaitHeld(server::inflightRequestBytes, 0);
    }

    @Test
    void theBudgetIsSharedWithHttp() throws Exception {
        ByteBudget shared = new ByteBudget(2 * SIZE);
        GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = start(shared);
        var blocking = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        try (HttpServer http = new HttpServer("http", new HttpSettings("127.0.0.1", 0, 2 * SIZE),
                HttpServer.inferenceRoutes(new InferenceLayer(StubVersion.serving(service), null)), null,
                dev.torchlight.server.access.AccessLog.OFF, shared)) {
            int port = http.start().getPort();
            // An HTTP body the size of the whole budget, held by the model until answered.
            String json = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}";
            byte[] body = (json + " ".repeat((int) (2 * SIZE) - json.length())).getBytes(StandardCharsets.UTF_8);
            CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> post(port, body));
            Held held = service.next();
            assertThat(http.inflightBodyBytes()).isEqualTo(2 * SIZE);

            assertThatThrownBy(() -> blocking.modelInfer(REQUEST))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(server.inflightRequestBytes()).isZero();

            held.answer();
            assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(200);
            awaitHeld(http::inflightBodyBytes, 0);
            Answers call = unary(stub);
            service.next().answer();
            assertThat(call.response.get(10, TimeUnit.SECONDS).getRawOutputContentsCount()).isOne();
        }
    }

    private static int post(int port, byte[] body) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/models/m/infer")
                    .toURL().openConnection();
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/json");
            c.setFixedLengthStreamingMode(body.length);
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
            int code = c.getResponseCode();
            c.getInputStream().readAllBytes();
            return code;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** One unary call in flight. */
    private record Answers(CompletableFuture<ModelInferResponse> response,
            CompletableFuture<ClientCallStreamObserver<ModelInferRequest>> call) {
        void cancel() throws Exception {
            call.get(10, TimeUnit.SECONDS).cancel("the client gives up", null);
        }
    }

    private static Answers unary(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub) {
        CompletableFuture<ModelInferResponse> response = new CompletableFuture<>();
        CompletableFuture<ClientCallStreamObserver<ModelInferRequest>> call = new CompletableFuture<>();
        stub.modelInfer(REQUEST, new ClientResponseObserver<ModelInferRequest, ModelInferResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ModelInferRequest> observer) {
                call.complete(observer);
            }

            @Override
            public void onNext(ModelInferResponse value) {
                response.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                response.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                // the response came with onNext
            }
        });
        return new Answers(response, call);
    }

    /** Polls {@code held} until it is {@code expected} (10 s at most), then asserts it. */
    static void awaitHeld(LongSupplier held, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(held.getAsLong()).isEqualTo(expected);
    }

    /** A request the model holds until the test answers it with its own inputs. */
    private record Held(InferenceRequest request, CompletableFuture<InferenceResponse> future) {
        void answer() {
            future.complete(new InferenceResponse("m", 1, request.id(), request.inputs()));
        }
    }

    /** Model "m", holding every request in {@link #requests}. */
    private static final class HeldService extends StubVersion {
        final BlockingQueue<Held> requests = new LinkedBlockingQueue<>();

        HeldService() {
            super("m", 1, null);
        }

        Held next() throws InterruptedException {
            Held held = requests.poll(10, TimeUnit.SECONDS);
            assertThat(held).as("a request reached the model").isNotNull();
            return held;
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            CompletableFuture<InferenceResponse> future = new CompletableFuture<>();
            requests.add(new Held(request, future));
            return future;
        }
    }
}
