package dev.torchlight.bench.load;

import dev.torchlight.bench.result.LevelResult;
import inference.GRPCInferenceServiceGrpc;
import inference.ModelInferResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Open loop over gRPC: a pacing thread starts a unary ModelInfer at each intended time
 * ({@link OpenLoopSchedule}); HTTP/2 multiplexes the calls, so none waits for a connection.
 * Latency runs from the intended send time, as in {@link OpenLoopLevel}, so that REST and gRPC can
 * be compared at the same offered rate.
 */
final class GrpcOpenLoopLevel extends LoadLevel {
    private final GrpcLoad load;
    private final double rate;
    private final Duration timeout;
    private final NanoClock clock;
    private volatile OpenLoopSchedule schedule;
    private Thread pacer;
    /** Sends made so far; the pacing thread's alone. */
    private long sent;

    GrpcOpenLoopLevel(GrpcLoad load, ServerWatch watch, int batch, double rate, Duration timeout, NanoClock clock) {
        super(null, null, Protocol.GRPC, watch, batch);
        this.load = load;
        this.rate = rate;
        this.timeout = timeout;
        this.clock = clock;
    }

    @Override
    String label() {
        return String.format(Locale.ROOT, "rate=%.0f/s", rate);
    }

    @Override
    void start() {
        schedule = new OpenLoopSchedule(clock, rate); // send 0 is due now
        pacer = Thread.ofPlatform().name("torchlight-bench-grpc-pacer").daemon().start(this::pace);
    }

    @Override
    void stop() {
        pacer.interrupt();
        try {
            pacer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    void closeConnections() {
        // The channels are GrpcLoad's, closed with it.
    }

    @Override
    LevelResult result() {
        return stats.result(null, rate, batch);
    }

    private void pace() {
        while (stats.running() && !Thread.currentThread().isInterrupted()) {
            long intended = schedule.takeDue();
            if (intended != OpenLoopSchedule.NONE) {
                send(intended);
            } else {
                // parkNanos wakes ~50 µs late at worst; sends due meanwhile go out together.
                LockSupport.parkNanos(schedule.nanosUntilNext());
            }
        }
    }

    private void send(long intended) {
        boolean measured = stats.measures(intended);
        stats.sending();
        if (schedule.sent(intended, clock.nanoTime())) {
            stats.behindSchedule(measured);
        }
        long i = sent++;
        GRPCInferenceServiceGrpc.newStub(load.channel((int) (i % GrpcLoad.MAX_CHANNELS)))
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .modelInfer(load.request(i), new StreamObserver<>() {
                    @Override
                    public void onNext(ModelInferResponse value) {
                        // counted on completion
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status status = Status.fromThrowable(t);
                        if (status.getCode() == Status.Code.UNAVAILABLE) {
                            watch.connectFailed(t);
                        } else {
                            watch.alive();
                        }
                        stats.error(GrpcLevel.kind(status), measured);
                        stats.ended();
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
