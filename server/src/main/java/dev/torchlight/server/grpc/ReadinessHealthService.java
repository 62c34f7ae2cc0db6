package dev.torchlight.server.grpc;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.inference.InferenceLayer;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code grpc.health.v1.Health} answering from readiness, as it is now: the empty service name
 * and {@code inference.GRPCInferenceService} are SERVING when every model is ready, and a model's
 * name is SERVING when that model's default version is ready. Anything else is unknown
 * (NOT_FOUND for Check, SERVICE_UNKNOWN for Watch). Watch re-checks every
 * {@value #WATCH_PERIOD_MS} ms and sends only changes.
 */
final class ReadinessHealthService extends HealthGrpc.HealthImplBase {
    static final long WATCH_PERIOD_MS = 250;
    private static final String INFERENCE_SERVICE = "inference.GRPCInferenceService";

    private final InferenceLayer inference;
    private final ScheduledExecutorService timer;
    /** Open Watch calls, ended by {@link #endWatches()} so that they do not hold up a shutdown. */
    private final Set<Runnable> watches = ConcurrentHashMap.newKeySet();

    ReadinessHealthService(InferenceLayer inference, ScheduledExecutorService timer) {
        this.inference = inference;
        this.timer = timer;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        ServingStatus status = status(request.getService());
        if (status == ServingStatus.SERVICE_UNKNOWN) {
            out.onError(Status.NOT_FOUND.withDescription("unknown service '" + request.getService()
                    + "'; expected '', " + INFERENCE_SERVICE + " or a model name").asRuntimeException());
            return;
        }
        out.onNext(response(status));
        out.onCompleted();
    }

    @Override
    public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        ServerCallStreamObserver<HealthCheckResponse> call = (ServerCallStreamObserver<HealthCheckResponse>) out;
        ServingStatus[] last = {status(request.getService())};
        out.onNext(response(last[0]));
        ScheduledFuture<?> poll = timer.scheduleWithFixedDelay(() -> {
            ServingStatus now = status(request.getService());
            if (now != last[0] && !call.isCancelled()) {
                last[0] = now;
                try {
                    out.onNext(response(now));
                } catch (RuntimeException e) {
                    // cancelled meanwhile; the handler below stops the polling
                }
            }
        }, WATCH_PERIOD_MS, WATCH_PERIOD_MS, TimeUnit.MILLISECONDS);
        Runnable end = () -> {
            poll.cancel(false);
            try {
                out.onCompleted();
            } catch (RuntimeException e) {
                // already cancelled
            }
        };
        watches.add(end);
        call.setOnCancelHandler(() -> {
            watches.remove(end);
            poll.cancel(false);
        });
    }

    /** Ends every open Watch call: the server is shutting down. */
    void endWatches() {
        for (Runnable end : watches) {
            watches.remove(end);
            end.run();
        }
    }

    private ServingStatus status(String name) {
        if (name.isEmpty() || name.equals(INFERENCE_SERVICE)) {
            return inference.ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        }
        try {
            return inference.version(name, null).ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        } catch (ServingException.NotFound e) {
            return ServingStatus.SERVICE_UNKNOWN;
        }
    }

    private static HealthCheckResponse response(ServingStatus status) {
        return HealthCheckResponse.newBuilder().setStatus(status).build();
    }
}
