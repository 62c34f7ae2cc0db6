package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.server.StubVersion;
import dev.torchlight.server.inference.InferenceLayer;
import inference.GRPCInferenceServiceGrpc;
import inference.InferParameter;
import inference.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gRPC front end over a model service that fails as told: each error of the family reaches
 * the client as its status code with the same message, and the call's deadline reaches the
 * request's timeout. The real server and client; only the model service is a fake.
 */
class GrpcStatusTest {
    private final ScriptedService service = new ScriptedService();
    private GrpcServer server;
    private ManagedChannel channel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeEach
    void start() {
        server = new GrpcServer(new GrpcSettings("127.0.0.1", 0, 1 << 20),
                new InferenceLayer(StubVersion.serving(service), null), null, List.of());
        int port = server.start().getPort();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    private static ModelInferRequest request() {
        return ModelInferRequest.newBuilder()
                .setModelName("m")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1))
                .addRawInputContents(ByteString.copyFrom(new byte[4]))
                .build();
    }

    @Test
    void everyErrorOfTheFamilyHasItsStatusAndMessage() {
        record Case(ServingException failure, Status.Code code) {}
        List<Case> cases = List.of(
                new Case(new ServingException.InvalidInput("bad input"), Status.Code.INVALID_ARGUMENT),
                new Case(new ServingException.NotFound("no model"), Status.Code.NOT_FOUND),
                new Case(new ServingException.NotReady("loading"), Status.Code.UNAVAILABLE),
                new Case(new ServingException.Overloaded("queue full"), Status.Code.UNAVAILABLE),
                new Case(new ServingException.TimedOut("waited too long"), Status.Code.DEADLINE_EXCEEDED),
                new Case(new ServingException.ResourceExhausted("too big"), Status.Code.RESOURCE_EXHAUSTED),
                new Case(new ServingException.Unauthorized("no token", false), Status.Code.UNAUTHENTICATED),
                new Case(new ServingException.Unauthorized("wrong token", true), Status.Code.PERMISSION_DENIED),
                new Case(new ServingException.Internal("engine failed", new IllegalStateException("secret")),
                        Status.Code.INTERNAL));
        for (Case c : cases) {
            service.failure = c.failure();
            assertThatThrownBy(() -> stub.modelInfer(request()))
                    .as(c.failure().getClass().getSimpleName())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(c.code());
                        assertThat(e.getStatus().getDescription()).isEqualTo(c.failure().getMessage());
                    });
        }
    }

    @Test
    void unexpectedFailuresAreInternalWithoutDetails() {
        service.failure = new IllegalStateException("a secret stack");
        assertThatThrownBy(() -> stub.modelInfer(request()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(e.getStatus().getDescription()).isEqualTo("internal error");
                });
    }

    @Test
    void theCallDeadlineBecomesTheRequestTimeout() {
        service.failure = null;
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).modelInfer(request());
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).modelInfer(request().toBuilder()
                .putParameters("timeout", InferParameter.newBuilder().setInt64Param(1000).build())
                .putParameters("priority", InferParameter.newBuilder().setInt64Param(2).build())
                .build());
        GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(request());

        InferenceRequest deadlineOnly = service.received.get(0);
        assertThat(deadlineOnly.timeoutMicros()).isBetween(1L, 5_000_000L).isGreaterThan(4_000_000L);
        InferenceRequest shorterParameter = service.received.get(1);
        assertThat(shorterParameter.timeoutMicros()).isEqualTo(1000);
        assertThat(shorterParameter.priority()).isEqualTo(2);
        assertThat(service.received.get(2).timeoutMicros()).as("no deadline: the model's default").isZero();
    }

    @Test
    void healthFollowsReadiness() throws InterruptedException {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        service.ready = false;
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        var watch = health.withDeadlineAfter(10, TimeUnit.SECONDS).watch(HealthCheckRequest.getDefaultInstance());
        assertThat(watch.next().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        service.ready = true;
        assertThat(watch.next().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        // An open watch does not hold up the shutdown: it is ended, well inside the drain time.
        long start = System.nanoTime();
        server.close();
        assertThat(watch.hasNext()).isFalse();
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(GrpcServer.DRAIN_SECONDS));
    }

    /** One model "m" that fails with {@link #failure}, or echoes its input when that is null. */
    private static final class ScriptedService extends StubVersion {
        volatile RuntimeException failure;
        final List<InferenceRequest> received = new CopyOnWriteArrayList<>();

        ScriptedService() {
            super("m", 1, null);
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            received.add(request);
            RuntimeException f = failure;
            return f != null ? CompletableFuture.failedFuture(f)
                    : CompletableFuture.completedFuture(new InferenceResponse("m", 1, request.id(), request.inputs()));
        }
    }
}
