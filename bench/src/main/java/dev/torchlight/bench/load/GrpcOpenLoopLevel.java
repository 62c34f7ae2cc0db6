package dev.torchlight.bench.load;

import inference.ModelInferResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Open loop over gRPC: a pacing thread starts a unary ModelInfer at each intended time
 * ({@link OpenLoopSchedule}); HTTP/2 multiplexes the calls, so none waits for a connection.
 * Latency runs from the intended send time, as in {@link OpenLoopLevel}, so that REST and gRPC can
 * be compared at the same offered rate.
 */
final class GrpcOpenLoopLevel extends PacedLevel {
    private final GrpcLoad load;
    private final Duration timeout;
    /** Sends made so far; the pacing thread's alone. */
    private long sent;

    GrpcOpenLoopLevel(GrpcLoad load, ServerWatch watch, int batch, double rate, Duration timeout, NanoClock clock) {
        super(null, null, Protocol.GRPC, watch, batch, rate, clock);
        this.load = load;
        this.timeout = timeout;
    }

    @Override
    void closeConnections() {
        // The channels are GrpcLoad's, closed with it.
    }

    @Override
    void dispatch(long intended) {
        boolean measured = stats.measures(intended);
        stats.sending();
        if (schedule.sent(intended, clock.nanoTime())) {
            stats.behindSchedule(measured);
        }
        long i = sent++;
        load.stub((int) (i % GrpcLoad.MAX_CHANNELS))
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .modelInfer(load.request(i), new StreamObserver<>() {
                    @Override
                    public void onNext(ModelInferResponse value) {
                        // counted on completion
                    }

                    @Override
                    public void onError(Throwable t) {
                        GrpcLevel.countFailure(watch, stats, t, measured);
                    }

                    @Override
                    public void onCompleted() {
                        watch.alive();
                        stats.success(clock.nanoTime() - intended, measured);
                        stats.ended();
                    }
                });
    }
}
