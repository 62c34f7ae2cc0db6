package dev.torchlight.bench.load;

import com.google.protobuf.ByteString;
import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.http.HttpTarget;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferRequest;
import inference.ModelMetadataRequest;
import inference.ModelMetadataResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a gRPC run needs: a few channels to the server's gRPC listener ({@code --url}'s host and
 * port) and the requests, encoded once before it starts: {@link RequestPool#DISTINCT_BODIES}
 * ModelInfer requests of random data in raw_input_contents, made from the model's metadata read
 * over gRPC, or every request of a {@code --replay} recording, in order.
 */
final class GrpcLoad implements AutoCloseable {
    /** HTTP/2 multiplexes calls; a few connections spread them over the server's event loops. */
    static final int MAX_CHANNELS = 4;

    private final EventLoopGroup group;
    private final List<ManagedChannel> channels;
    private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceStub> stubs;
    private final List<ModelInferRequest> requests;

    private GrpcLoad(EventLoopGroup group, List<ManagedChannel> channels, List<ModelInferRequest> requests) {
        this.group = group;
        this.channels = channels;
        this.stubs = channels.stream().map(GRPCInferenceServiceGrpc::newStub).toList();
        this.requests = requests;
    }

    /**
     * @throws LoadBenchException when the metadata or the recording cannot be read or the inputs cannot be made
     */
    static GrpcLoad open(HttpTarget target, LoadOptions options) {
        if (options.inputFile() != null) {
            throw new LoadBenchException("--protocol " + options.protocol().wireName()
                    + " makes its requests from the model's metadata; leave out --input-file");
        }
        int count = options.closedLoop() ? Math.min(MAX_CHANNELS, options.concurrency().stream()
                .mapToInt(Integer::intValue).max().orElse(1)) : MAX_CHANNELS;
        // As cheap per call as the HTTP load generator: native epoll event loops, and answers handled on
        // the event loop that read them (directExecutor) rather than handed to a thread pool, which
        // costs the client more CPU than the server spends on the call.
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(HttpLoadClient.defaultIoThreads(),
                new DefaultThreadFactory("torchlight-bench-grpc", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        // Each channel on a loop of its own choosing, in turn: left to the group, grpc-java also takes
        // loops for its timers, and all the channels ended up on one loop while the other idled.
        List<EventLoop> loops = new ArrayList<>();
        group.forEach(executor -> loops.add((EventLoop) executor));
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            channels.add(NettyChannelBuilder.forAddress(target.host(), target.port())
                    .eventLoopGroup(loops.get(i % loops.size()))
                    .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .directExecutor()
                    // Retries would buffer every request for a resend: a copy and bookkeeping per call
                    // that a load generator must not pay (a failed call is counted, not retried).
                    .disableRetry()
                    .usePlaintext()
                    .maxInboundMessageSize(Integer.MAX_VALUE)
                    .build());
        }
        try {
            List<ModelInferRequest> requests = new ArrayList<>();
            // Read before any level in both cases, which also connects the first channel: a level that
            // began on unconnected channels would measure their start.
            List<InputSpec> inputs = metadata(channels.get(0), target, options);
            if (options.replayFile() != null) {
                ReplayFile recording = ReplayFile.read(options.replayFile());
                recording.check(inputs, options.model());
                for (int i = 0; i < recording.size(); i++) {
                    requests.add(request(options, recording.request(i)));
                }
                return new GrpcLoad(group, channels, requests);
            }
            InputGenerator generator = new InputGenerator(options.seed());
            for (int i = 0; i < RequestPool.DISTINCT_BODIES; i++) {
                requests.add(request(options, generator.next(inputs, options.batch())));
            }
            return new GrpcLoad(group, channels, requests);
        } catch (RuntimeException e) {
            channels.forEach(ManagedChannel::shutdownNow);
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            if (e instanceof IllegalArgumentException) {
                throw new LoadBenchException("cannot make input data for model " + options.model() + ": "
                        + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static List<InputSpec> metadata(ManagedChannel channel, HttpTarget target, LoadOptions options) {
        ModelMetadataResponse metadata;
        try {
            metadata = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .modelMetadata(ModelMetadataRequest.newBuilder()
                            .setName(options.model())
                            .setVersion(options.modelVersion() == null ? "" : options.modelVersion())
                            .build());
        } catch (StatusRuntimeException e) {
            throw new LoadBenchException("cannot read the metadata of model " + options.model() + " over gRPC from "
                    + target.host() + ":" + target.port() + " (--url must be the gRPC listener): " + e.getStatus(), e);
        }
        List<InputSpec> inputs = new ArrayList<>();
        for (ModelMetadataResponse.TensorMetadata t : metadata.getInputsList()) {
            inputs.add(new InputSpec(t.getName(), Datatype.parse(t.getDatatype()),
                    t.getShapeList().stream().mapToLong(Long::longValue).toArray()));
        }
        if (inputs.isEmpty()) {
            throw new LoadBenchException("model " + options.model() + " declares no inputs");
        }
        return inputs;
    }

    private static ModelInferRequest request(LoadOptions options, List<InputTensor> inputs) {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(options.model());
        if (options.modelVersion() != null) {
            request.setModelVersion(options.modelVersion());
        }
        for (InputTensor t : inputs) {
            ModelInferRequest.InferInputTensor.Builder input = request.addInputsBuilder()
                    .setName(t.name())
                    .setDatatype(t.datatype().name());
            for (long d : t.shape()) {
                input.addShape(d);
            }
            request.addRawInputContents(ByteString.copyFrom(t.data()));
        }
        return request.build();
    }

    /** The stub of the channel that carries {@code slot}'s calls. */
    GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub(int slot) {
        return stubs.get(slot % stubs.size());
    }

    /** The request for send number {@code i}. */
    ModelInferRequest request(long i) {
        return requests.get((int) (i % requests.size()));
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            try {
                c.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
}
