package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import inference.GRPCInferenceServiceGrpc;
import inference.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With --inference-token, gRPC calls need the inference key as call metadata, like REST. */
class GrpcTokenTest {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private static ServerHarness harness;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        harness = new ServerHarness(new ServerConfig("127.0.0.1", 0, TestData.models(), List.of("mlp"),
                ServerConfig.DEFAULT_MAX_REQUEST_SIZE, ServerConfig.METRICS_OFF, null, ManagementConfig.ephemeral(),
                new SecurityConfig(true, true, null, List.of(), null, null), 0, dev.torchlight.config.HandlerConfig.defaults()));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", harness.server.grpcAddress().getPort())
                .usePlaintext().build();
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        harness.close();
    }

    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(String authorization) {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        if (authorization == null) {
            return stub;
        }
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, authorization);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @Test
    void noKeyIsUnauthenticated() {
        assertThatThrownBy(() -> stub(null).serverLive(ServerLiveRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getStatus().getDescription()).contains("Authorization: Bearer <inference key>");
                });
    }

    @Test
    void wrongKeyIsPermissionDenied() {
        String management = "Bearer " + harness.server.keys().management();
        assertThatThrownBy(() -> stub(management).serverLive(ServerLiveRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void theInferenceKeyOpensAndHealthNeedsNone() {
        String key = "Bearer " + harness.server.keys().inference();
        assertThat(stub(key).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
}
