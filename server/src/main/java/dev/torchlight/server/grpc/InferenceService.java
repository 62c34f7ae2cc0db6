package dev.torchlight.server.grpc;

import dev.torchlight.api.BatchedCompletion;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelState;
import dev.torchlight.registry.ModelVersionInfo;
import inference.GRPCInferenceServiceGrpc;
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
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code inference.GRPCInferenceService}: the KServe v2 gRPC protocol over the core's
 * {@link ModelService}. Handlers run on the transport's threads and never block: inference
 * completes on a worker, and the reply is built and sent on an I/O thread that
 * {@code responders} picks. Every failure reaches the client through {@link GrpcErrorMapper}.
 */
final class InferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    /** Protocol extensions this server implements, as REST's {@code GET /v2} lists them. */
    static final List<String> EXTENSIONS = List.of("binary_tensor_data", "statistics");

    private final ModelService service;
    private final String serverVersion;
    private final Supplier<Executor> responders;

    /** @param responders an I/O executor per call, where replies are serialised and sent */
    InferenceService(ModelService service, String serverVersion, Supplier<Executor> responders) {
        this.service = Objects.requireNonNull(service, "service");
        this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
        this.responders = Objects.requireNonNull(responders, "responders");
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        reply(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        reply(out, () -> ServerReadyResponse.newBuilder().setReady(service.ready()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        reply(out, () -> ModelReadyResponse.newBuilder()
                .setReady(describe(request.getName(), request.getVersion()).ready())
                .build());
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        reply(out, () -> ServerMetadataResponse.newBuilder()
                .setName("torchlight")
                .setVersion(serverVersion)
                .addAllExtensions(EXTENSIONS)
                .build());
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        reply(out, () -> GrpcResponses.metadata(describe(request.getName(), request.getVersion())));
    }

    @Override
    public void modelStatistics(ModelStatisticsRequest request, StreamObserver<ModelStatisticsResponse> out) {
        reply(out, () -> {
            List<ModelVersionInfo> versions;
            if (request.getName().isEmpty()) {
                versions = service.models();
            } else if (!request.getVersion().isEmpty()) {
                versions = List.of(describe(request.getName(), request.getVersion()));
            } else {
                describe(request.getName(), ""); // NOT_FOUND for an unknown model
                versions = service.models().stream().filter(v -> v.name().equals(request.getName())).toList();
            }
            ModelStatisticsResponse.Builder reply = ModelStatisticsResponse.newBuilder();
            // Version 0 stands for a model with no version folders: nothing to report.
            versions.stream().filter(v -> v.version() > 0).forEach(v -> reply.addModelStats(GrpcResponses.statistics(v)));
            return reply.build();
        });
    }

    @Override
    public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
        reply(out, () -> {
            RepositoryIndexResponse.Builder reply = RepositoryIndexResponse.newBuilder();
            for (ModelVersionInfo v : service.models()) {
                if (request.getReady() && !v.ready()) {
                    continue;
                }
                RepositoryIndexResponse.ModelIndex.Builder index = reply.addModelsBuilder()
                        .setName(v.name())
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
        CompletableFuture<ModelInferResponse> reply;
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
                    out.onNext(response);
                    out.onCompleted();
                }
            } catch (RuntimeException e) {
                // cancelled between the check and the write: nothing left to tell
            }
        }, BatchedCompletion.deferring(responders.get()));
    }

    @Override
    public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
        return new StreamInferCall(this, out, responders.get());
    }

    /**
     * Decodes, checks and submits one request. Throws for what is wrong with the request itself;
     * the future fails for what happens later. The reply is built where the future completes.
     */
    CompletableFuture<ModelInferResponse> infer(ModelInferRequest request, long deadlineMicros) {
        InferenceRequest core = GrpcRequests.read(request, deadlineMicros);
        if (!core.outputs().isEmpty()) {
            service.checkRequestedOutputs(core);
        }
        boolean raw = request.getRawInputContentsCount() > 0;
        return service.infer(core).thenApply((InferenceResponse r) ->
                GrpcResponses.infer(r, core.id(), core.outputs(), raw));
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

    private ModelVersionInfo describe(String model, String version) {
        if (model.isEmpty()) {
            throw new ServingException.InvalidInput("the model name is empty; expected the name of a model");
        }
        return service.describe(model, GrpcRequests.version(version));
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
