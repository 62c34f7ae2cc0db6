package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.StubVersion;
import dev.torchlight.server.inference.InferenceLayer;
import inference.GRPCInferenceServiceGrpc;
import inference.ServerLiveRequest;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Slow and idle gRPC clients are cut off as HTTP ones are: a connection that does not set itself up
 * (no HTTP/2 preface) within the header timeout closes, and one that holds no call for the idle
 * timeout gets GOAWAY and closes.
 */
class GrpcClientTimeoutsTest {

    @Test
    void aConnectionThatNeverSetsItselfUpIsClosed() throws Exception {
        try (GrpcServer server = new GrpcServer(settings(Duration.ofSeconds(60)), oneModel(), null, List.of())) {
            int port = server.start().getPort();
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(5_000); // a server that never closes fails the test instead of hanging it
                InputStream in = socket.getInputStream();
                // The server may write its HTTP/2 settings and a GOAWAY first; then it closes.
                while (in.read() != -1) {
                    // drain
                }
            }
        }
    }

    @Test
    void aChannelThatCallsStillWorksAfterItsConnectionWasClosedForIdleness() throws Exception {
        try (GrpcServer server = new GrpcServer(settings(Duration.ofMillis(300)), oneModel(), null, List.of())) {
            int port = server.start().getPort();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
                for (int i = 0; i < 3; i++) {
                    assertThat(stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                            .serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
                    // The server sends GOAWAY once the connection has held no call for the idle timeout: the
                    // channel goes idle, and connects again for the next call.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (channel.getState(false) != ConnectivityState.IDLE && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                    }
                    assertThat(channel.getState(false)).isEqualTo(ConnectivityState.IDLE);
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static GrpcSettings settings(Duration idle) {
        return new GrpcSettings("127.0.0.1", 0, 1 << 20, Duration.ofMillis(400), idle);
    }

    private static InferenceLayer oneModel() {
        return new InferenceLayer(StubVersion.serving(StubVersion.answering("m", 1, null,
                r -> CompletableFuture.failedFuture(new ServingException.Internal("unused", null)))), null);
    }
}
