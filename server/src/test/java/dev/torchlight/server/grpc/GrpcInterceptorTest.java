package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.StubVersion;
import dev.torchlight.server.inference.InferenceLayer;
import inference.GRPCInferenceServiceGrpc;
import inference.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The plug-in point for authentication: interceptors given at construction guard the inference
 * service, and health and reflection stay open (as REST's health routes are).
 */
class GrpcInterceptorTest {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    /** A token check of the kind token auth plugs in. */
    private static final class TokenCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            String token = headers.get(AUTHORIZATION);
            if (!"Bearer secret".equals(token)) {
                Status status = GrpcErrorMapper.status(new ServingException.Unauthorized(
                        token == null ? "missing token" : "wrong token", token != null));
                call.close(status, new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }
    }

    @Test
    void interceptorsGuardInferenceButNotHealth() throws InterruptedException {
        try (GrpcServer server = new GrpcServer(new GrpcSettings("127.0.0.1", 0, 1 << 20), oneModel(), null,
                List.of(new TokenCheck()))) {
            int port = server.start().getPort();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                assertThatThrownBy(() -> stub.serverLive(ServerLiveRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
                Metadata wrong = new Metadata();
                wrong.put(AUTHORIZATION, "Bearer guess");
                assertThatThrownBy(() -> stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong))
                        .serverLive(ServerLiveRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
                Metadata right = new Metadata();
                right.put(AUTHORIZATION, "Bearer secret");
                assertThat(stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(right))
                        .serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
                assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus().name()).isEqualTo("SERVING");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static InferenceLayer oneModel() {
        return new InferenceLayer(StubVersion.serving(StubVersion.answering("m", 1, null,
                r -> CompletableFuture.failedFuture(new ServingException.Internal("unused", null)))), null);
    }
}
