package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.StubVersion;
import dev.torchlight.server.inference.InferenceLayer;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelStreamInferResponse;
import inference.ServerLiveRequest;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Slow and idle gRPC clients are cut off as HTTP ones are: a connection that does not set itself up
 * (no HTTP/2 preface) within the header timeout closes, one that holds no call for the idle timeout
 * gets GOAWAY and closes, and a call whose request message does not arrive within the body timeout
 * (a unary call's from its start, any message's from its first bytes) is cancelled, its bytes given
 * back to the in-flight budget. A streaming call may wait between messages.
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

    @Test
    void aUnaryCallWhoseMessageNeverComesIsCancelledAfterTheBodyTimeout() throws Exception {
        try (GrpcServer server = new GrpcServer(settings(Duration.ofSeconds(60), Duration.ofMillis(300)), oneModel(),
                null, List.of())) {
            int port = server.start().getPort();
            // Headers only: no message, no end of stream, no deadline. (grpc-java's own client holds a
            // unary call's headers back until its message, so the call is written by hand.)
            try (RawHttp2 client = new RawHttp2(port)) {
                client.headers(1, "/inference.GRPCInferenceService/ModelInfer");
                assertThat(client.awaitReset(1, 10_000)).as("RST_STREAM for the call").isTrue();
            }
            assertThat(server.slowCalls()).isEqualTo(1);
        }
    }

    @Test
    void aMessageThatStopsHalfwayIsCancelledAndItsBytesGivenBack() throws Exception {
        try (GrpcServer server = new GrpcServer(settings(Duration.ofSeconds(60), Duration.ofMillis(300)), oneModel(),
                null, List.of())) {
            int port = server.start().getPort();
            try (RawHttp2 client = new RawHttp2(port)) {
                // A streaming call, which may wait before its first message, but not within one.
                client.headers(1, "/inference.GRPCInferenceService/ModelStreamInfer");
                // Not compressed, declares 1,000 bytes (big-endian); 195 follow, then nothing.
                byte[] part = new byte[200];
                part[3] = 0x03;
                part[4] = (byte) 0xE8;
                client.data(1, part);
                assertThat(client.awaitReset(1, 10_000)).as("RST_STREAM for the call").isTrue();
            }
            GrpcRequestBudgetTest.awaitHeld(server::inflightRequestBytes, 0);
            assertThat(server.slowCalls()).isEqualTo(1);
        }
    }

    @Test
    void aStreamingCallMayWaitLongerThanTheBodyTimeoutBeforeItsFirstMessage() throws Exception {
        try (GrpcServer server = new GrpcServer(settings(Duration.ofSeconds(60), Duration.ofMillis(200)), oneModel(),
                null, List.of())) {
            int port = server.start().getPort();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                CompletableFuture<ModelStreamInferResponse> answer = new CompletableFuture<>();
                var requests = GRPCInferenceServiceGrpc.newStub(channel).modelStreamInfer(new StreamObserver<>() {
                    @Override
                    public void onNext(ModelStreamInferResponse value) {
                        answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
                // What is tested is that a real timer does not fire: three body timeouts must pass with the
                // stream open and no message sent; the answer to the message after them shows it still open.
                Thread.sleep(600);
                requests.onNext(ModelInferRequest.newBuilder().setModelName("m").build());
                assertThat(answer.get(10, TimeUnit.SECONDS)).isNotNull();
                requests.onCompleted();
                assertThat(server.slowCalls()).isZero();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static GrpcSettings settings(Duration idle) {
        return settings(idle, Duration.ofSeconds(60));
    }

    private static GrpcSettings settings(Duration idle, Duration message) {
        return new GrpcSettings("127.0.0.1", 0, 1 << 20, Duration.ofMillis(400), idle, 4 << 20, message);
    }

    /**
     * A client that writes HTTP/2 frames by hand, for a message that stops halfway, which no gRPC
     * client sends on purpose. Headers go as HPACK literals without indexing.
     */
    private static final class RawHttp2 implements AutoCloseable {
        private final Socket socket;
        private final DataOutputStream out;
        private final DataInputStream in;

        RawHttp2(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            out = new DataOutputStream(socket.getOutputStream());
            in = new DataInputStream(socket.getInputStream());
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(4, 0, 0, new byte[0]); // SETTINGS
        }

        void headers(int stream, String path) throws IOException {
            ByteArrayOutputStream block = new ByteArrayOutputStream();
            String[][] fields = {{":method", "POST"}, {":scheme", "http"}, {":path", path},
                    {":authority", "localhost"}, {"content-type", "application/grpc"}, {"te", "trailers"}};
            for (String[] field : fields) {
                block.write(0);
                for (String s : field) {
                    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
                    block.write(bytes.length);
                    block.write(bytes);
                }
            }
            frame(1, 0x4, stream, block.toByteArray()); // HEADERS, END_HEADERS
        }

        void data(int stream, byte[] payload) throws IOException {
            frame(0, 0, stream, payload);
        }

        private void frame(int type, int flags, int stream, byte[] payload) throws IOException {
            out.write(payload.length >>> 16);
            out.write(payload.length >>> 8);
            out.write(payload.length);
            out.write(type);
            out.write(flags);
            out.writeInt(stream);
            out.write(payload);
            out.flush();
        }

        /** Reads frames until RST_STREAM on {@code stream} (true) or the connection ends or times out (false). */
        boolean awaitReset(int stream, int timeoutMillis) throws IOException {
            socket.setSoTimeout(timeoutMillis);
            try {
                while (true) {
                    int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
                    int type = in.readUnsignedByte();
                    int flags = in.readUnsignedByte();
                    int id = in.readInt() & 0x7fffffff;
                    in.skipNBytes(length);
                    if (type == 4 && (flags & 1) == 0) {
                        frame(4, 1, 0, new byte[0]); // acknowledge the server's SETTINGS
                    }
                    if (type == 3 && id == stream) {
                        return true;
                    }
                }
            } catch (EOFException | java.net.SocketTimeoutException e) {
                return false;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static InferenceLayer oneModel() {
        return new InferenceLayer(StubVersion.serving(StubVersion.answering("m", 1, null,
                r -> CompletableFuture.failedFuture(new ServingException.Internal("unused", null)))), null);
    }
}
