package dev.torchlight.bench.load;

import inference.ModelInferRequest;
import inference.ModelInferResponse;
import inference.ModelStreamInferResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A closed-loop level over gRPC: {@code concurrency} slots, each sending its next ModelInfer as
 * soon as the previous answer arrives, as unary calls or over one ModelStreamInfer stream per
 * slot. Latency is from send to the answer. Failures count by status code ({@code grpc_unavailable}).
 */
final class GrpcLevel extends SlotLevel<GrpcLevel.Slot> {
    private static final Executor RETRY_LATER =
            CompletableFuture.delayedExecutor(ClosedLoopLevel.RECONNECT_DELAY.toMillis(), TimeUnit.MILLISECONDS);

    private final GrpcLoad load;
    private final boolean streaming;
    private final Duration timeout;

    GrpcLevel(GrpcLoad load, Protocol protocol, ServerWatch watch, int batch, int concurrency, Duration timeout) {
        super(null, null, protocol, watch, batch, concurrency);
        this.load = load;
        this.streaming = protocol == Protocol.GRPC_STREAM;
        this.timeout = timeout;
    }

    @Override
    Slot open(int index) {
        Slot slot = new Slot(index);
        slot.send();
        return slot;
    }

    @Override
    void close(Slot slot) {
        slot.close();
    }

    /**
     * Counts a failed call as its status's error kind and tells the watch whether the server is
     * reachable (UNAVAILABLE means it is not).
     */
    static void countFailure(ServerWatch watch, LevelStats stats, Throwable t, boolean measured) {
        Status status = Status.fromThrowable(t);
        if (status.getCode() == Status.Code.UNAVAILABLE) {
            watch.connectFailed(t);
        } else {
            watch.alive();
        }
        stats.error(kind(status), measured);
        stats.ended();
    }

    /** The error kind a failed call counts as, e.g. {@code grpc_unavailable}. */
    private static String kind(Status status) {
        return "grpc_" + status.getCode().name().toLowerCase(Locale.ROOT);
    }

    /** One slot of the loop; each has at most one request in flight, so its fields need no lock. */
    final class Slot implements StreamObserver<ModelStreamInferResponse> {
        private final int index;
        private long sent;
        private volatile long sentAt;
        private volatile boolean measured;
        private StreamObserver<ModelInferRequest> stream;

        Slot(int index) {
            this.index = index;
            this.sent = index; // spread the slots over the distinct requests
        }

        void send() {
            LevelStats.Phase phase = stats.phase();
            if (phase == LevelStats.Phase.DONE) {
                close();
                return;
            }
            measured = phase == LevelStats.Phase.MEASURE;
            ModelInferRequest request = load.request(sent++);
            stats.sending();
            sentAt = System.nanoTime();
            if (streaming) {
                synchronized (this) {
                    if (stream == null) {
                        stream = load.stub(index).modelStreamInfer(this);
                    }
                    stream.onNext(request);
                }
            } else {
                load.stub(index)
                        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                        .modelInfer(request, new StreamObserver<>() {
                            @Override
                            public void onNext(ModelInferResponse value) {
                                // counted on completion
                            }

                            @Override
                            public void onError(Throwable t) {
                                failed(t);
                            }

                            @Override
                            public void onCompleted() {
                                succeeded();
                            }
                        });
            }
        }

        private void succeeded() {
            watch.alive();
            stats.success(System.nanoTime() - sentAt, measured);
            stats.ended();
            send();
        }

        private void failed(Throwable t) {
            countFailure(watch, stats, t, measured);
            RETRY_LATER.execute(this::send);
        }

        @Override
        public void onNext(ModelStreamInferResponse value) {
            if (value.getErrorMessage().isEmpty()) {
                succeeded();
            } else {
                watch.alive();
                stats.error("grpc_stream_error", measured);
                stats.ended();
                send();
            }
        }

        @Override
        public void onError(Throwable t) {
            synchronized (this) {
                stream = null; // the next send opens a new stream
            }
            if (stats.phase() != LevelStats.Phase.DONE) {
                failed(t);
            }
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                stream = null;
            }
        }

        synchronized void close() {
            if (stream != null) {
                try {
                    stream.onCompleted();
                } catch (RuntimeException e) {
                    // already closed
                }
                stream = null;
            }
        }
    }
}
