package dev.torchlight.server.grpc;

import dev.torchlight.api.InferenceResponse;
import inference.ModelInferRequest;
import inference.ModelInferResponse;
import inference.ModelStreamInferResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One {@code ModelStreamInfer} call: each request gets one response, in the order they complete
 * (each carries the request's id). A failed request is answered with {@code error_message} and
 * the stream stays open. After the client half-closes, the stream ends once every request has
 * been answered. Responses are sent one at a time, as gRPC requires. Each request's bytes count in
 * the in-flight budget until its response is sent ({@link GrpcRequestBudget}).
 */
final class StreamInferCall implements StreamObserver<ModelInferRequest> {
    private final InferenceService service;
    private final StreamObserver<ModelStreamInferResponse> out;
    private final Executor responder;
    private final GrpcRequestBudget.CallBytes bytes;
    private int pending;
    private boolean halfClosed;
    private boolean done;

    StreamInferCall(InferenceService service, StreamObserver<ModelStreamInferResponse> out, Executor responder) {
        this.service = service;
        this.out = out;
        this.responder = responder;
        this.bytes = GrpcRequestBudget.current();
    }

    @Override
    public void onNext(ModelInferRequest request) {
        synchronized (this) {
            pending++;
        }
        // The message's share of the in-flight budget, given back once it is answered: the stream may
        // go on long after.
        long held = bytes == null ? 0 : bytes.claim();
        CompletableFuture<InferenceResponse> reply;
        try {
            reply = service.infer(request, InferenceService.deadlineMicros());
        } catch (RuntimeException e) {
            send(failed(request, e), held);
            return;
        }
        reply.whenCompleteAsync((response, failure) -> send(failure == null
                ? ModelStreamInferResponse.newBuilder().setInferResponse(InferenceService.reply(request, response)).build()
                : failed(request, failure), held), responder);
    }

    private static ModelStreamInferResponse failed(ModelInferRequest request, Throwable failure) {
        return ModelStreamInferResponse.newBuilder()
                .setErrorMessage(InferenceService.streamError(failure))
                .setInferResponse(ModelInferResponse.newBuilder()
                        .setModelName(request.getModelName())
                        .setModelVersion(request.getModelVersion())
                        .setId(request.getId()))
                .build();
    }

    private synchronized void send(ModelStreamInferResponse response, long held) {
        pending--;
        if (done) {
            return; // the call has ended, and with it every reservation
        }
        try {
            out.onNext(response);
        } catch (RuntimeException e) {
            done = true; // cancelled: the client hears nothing more
            return;
        }
        if (bytes != null) {
            bytes.release(held);
        }
        finishIfDone();
    }

    @Override
    public synchronized void onError(Throwable t) {
        done = true; // the client cancelled or the connection broke
    }

    @Override
    public synchronized void onCompleted() {
        halfClosed = true;
        finishIfDone();
    }

    private void finishIfDone() {
        if (halfClosed && pending == 0 && !done) {
            done = true;
            out.onCompleted();
        }
    }
}
