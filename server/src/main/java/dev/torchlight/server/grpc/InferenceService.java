package dev.torchlight.server.grpc;

import dev.torchlight.api.BatchedCompletion;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.ServerMetadata;
import dev.torchlight.server.inference.Work;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelConfigRequest;
import inference.ModelConfigResponse;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import inference.ModelMetadataRequest;
import inference.ModelMetadataResponse;
import inference.ModelReadyRequest;
import inference.ModelReadyResponse;
import inference.ModelStatisticsRequest;
import inference.ModelStatisticsResponse;
import inference.ModelStreamInferResponse;
import inference.RepositoryIndexRequest;
import inference.RepositoryIndexResponse;
import inference.ServerLiveRequest;
import inference.ServerLiveResponse;
import inference.ServerMetadataRequest;
import inference.ServerMetadataResponse;
import inference.ServerReadyRequest;
import inference.ServerReadyResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code inference.GRPCInferenceService}: the KServe v2 gRPC protocol, a codec over the
 * {@link InferenceLayer}. Handlers run on the transport's threads and never block: inference
 * completes on a worker, and the reply is built and sent on an I/O thread that
 * {@code responders} picks. Every failure reaches the client through {@link GrpcErrorMapper}.
 */
final class InferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    private final InferenceLayer inference;
    private final String serverVersion;
    private final Supplier<Executor> responders;

    /**
     * @param responders an I/O executor per call, where replies are serialised and sent; one that joins
     *     an engine batch's completions ({@link BatchedCompletion#deferring})
     */
    InferenceService(InferenceLayer inference, String serverVersion, Supplier<Executor> responders) {
        this.inference = Objects.requireNonNull(inference, "inference");
        this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
        this.responders = Objects.requireNonNull(responders, "responders");
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        reply(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        reply(out, () -> ServerReadyResponse.newBuilder().setReady(inference.ready()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        reply(out, () -> ModelReadyResponse.newBuilder()
                .setReady(model(request.getName()).version(GrpcRequests.version(request.getVersion())).ready())
                .build());
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        reply(out, () -> ServerMetadataResponse.newBuilder()
                .setName(ServerMetadata.NAME)
                .setVersion(serverVersion)
                .addAllExtensions(ServerMetadata.EXTENSIONS)
                .build());
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        reply(out, () -> GrpcResponses.metadata(model(request.getName()), GrpcRequests.version(request.getVersion())));
    }

    @Override
    public void modelStatistics(ModelStatisticsRequest request, StreamObserver<ModelStatisticsResponse> out) {
        reply(out, () -> {
            String name = request.getName().isEmpty() ? null : request.getName();
            Long version = name == null ? null : GrpcRequests.version(request.getVersion());
            ModelStatisticsResponse.Builder reply = ModelStatisticsResponse.newBuilder();
            inference.statistics(name, version).forEach(v -> reply.addModelStats(GrpcResponses.statistics(v)));
            return reply.build();
        });
    }

    @Override
    public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> out) {
        reply(out, () -> {
            ServedVersion served = inference.version(request.getName(), GrpcRequests.version(request.getVersion()));
            if (served.config() == null) {
                throw new ServingException.NotReady("model '" + request.getName() + "' version " + served.version()
                        + " has no configuration: it did not load" + (served.error() != null ? ": " + served.error() : ""));
            }
            return ModelConfigResponse.newBuilder()
                    .setConfig(GrpcModelConfig.of(request.getName(), served.config())).build();
        });
    }

    @Override
    public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
        reply(out, () -> {
            RepositoryIndexResponse.Builder reply = RepositoryIndexResponse.newBuilder();
            for (ServedVersion v : inference.models().stream().flatMap(m -> m.listed().stream()).toList()) {
                if (request.getReady() && !v.ready()) {
                    continue;
                }
                RepositoryIndexResponse.ModelIndex.Builder index = reply.addModelsBuilder()
                        .setName(v.model())
                        .setVersion(v.version() > 0 ? Long.toString(v.version()) : "")
                        .setState(v.state() == ModelState.READY || v.state() == ModelState.LOADING
                                ? v.state().name() : "UNAVAILABLE");
                if (v.error() != null) {
                    index.setReason(v.error());
                } else if (v.state() == ModelState.UNLOADED) {
                    index.setReason("unloaded");
                }
            }
            return reply.build();
        });
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
        CompletableFuture<InferenceResponse> reply;
        try {
            reply = infer(request, deadlineMicros());
        } catch (RuntimeException e) {
            out.onError(GrpcErrorMapper.toException(e));
            return;
        }
        reply.whenCompleteAsync((response, failure) -> {
            if (out instanceof ServerCallStreamObserver<?> call && call.isCancelled()) {
                return; // the client is gone (or its deadline passed): nobody to answer
            }
            try {
                if (failure != null) {
                    out.onError(GrpcErrorMapper.toException(failure));
                } else {
                    out.onNext(reply(request, response));
                    out.onCompleted();
                }
            } catch (RuntimeException e) {
                // cancelled between the check and the write: nothing left to tell
            }
        }, responders.get());
    }

    @Override
    public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
        return new StreamInferCall(this, out, responders.get());
    }

    /**
     * Decodes and submits one request. Throws for what is wrong with the request itself; the future
     * fails for what happens later. The reply is built by {@link #reply}, on the responder's thread,
     * not on the engine's.
     */
    CompletableFuture<InferenceResponse> infer(ModelInferRequest request, long deadlineMicros) {
        return inference.infer(GrpcRequests.model(request.getModelName(), "model_name"),
                GrpcRequests.version(request.getModelVersion()), CallHeaders.current(),
                target -> new Work.Tensors<>(GrpcRequests.read(request, deadlineMicros), response -> response));
    }

    /** The reply to {@code request}: raw output contents when it sent raw inputs, as Triton answers. */
    static ModelInferResponse reply(ModelInferRequest request, InferenceResponse response) {
        return GrpcResponses.infer(response, request.getRawInputContentsCount() > 0);
    }

    /**
     * What is left of the current call's deadline in microseconds (at least 1), 0 when it has none.
     *
     * @throws ServingException.TimedOut when it has already passed
     */
    static long deadlineMicros() {
        Deadline deadline = Context.current().getDeadline();
        if (deadline == null) {
            return 0;
        }
        long left = deadline.timeRemaining(TimeUnit.MICROSECONDS);
        if (left <= 0) {
            throw new ServingException.TimedOut("the call's deadline passed before the request was queued");
        }
        return left;
    }

    private ServedModel model(String name) {
        return inference.model(GrpcRequests.model(name, "the model name"));
    }

    private static <T> void reply(StreamObserver<T> out, Supplier<T> answer) {
        T value;
        try {
            value = answer.get();
        } catch (RuntimeException e) {
            out.onError(GrpcErrorMapper.toException(e));
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }

    /** The text a stream response carries for a failed request: the status code and description. */
    static String streamError(Throwable failure) {
        Status status = GrpcErrorMapper.toException(failure).getStatus();
        return status.getCode() + ": " + status.getDescription();
    }
}
