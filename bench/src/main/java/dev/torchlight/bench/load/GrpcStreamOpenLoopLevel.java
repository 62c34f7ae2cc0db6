package dev.torchlight.bench.load;

import inference.ModelInferRequest;
import inference.ModelStreamInferResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Open loop over ModelStreamInfer: one long-lived stream per channel, the pacing thread writing each
 * request at its intended time ({@link OpenLoopSchedule}) onto the streams in turn. A stream may
 * answer out of order, so each request carries its send number as its id and the answer is matched
 * by it. A request unanswered after the timeout counts as {@code grpc_stream_no_answer}: a stream has
 * no per-message deadline, so the level keeps one itself.
 */
final class GrpcStreamOpenLoopLevel extends PacedLevel {
    private final GrpcLoad load;
    private final long timeoutNanos;
    /** Requests sent and not yet answered, by id: ordered, so the overdue ones are at the head. */
    private final ConcurrentSkipListMap<Long, Sent> pending = new ConcurrentSkipListMap<>();
    private final Stream[] streams = new Stream[GrpcLoad.MAX_CHANNELS];
    /** Sends made so far; the pacing thread's alone. */
    private long sent;

    private record Sent(long intended, boolean measured) {}

    GrpcStreamOpenLoopLevel(GrpcLoad load, ServerWatch watch, int batch, double rate, Duration timeout,
            NanoClock clock) {
        super(null, null, Protocol.GRPC_STREAM, watch, batch, rate, clock);
        this.load = load;
        this.timeoutNanos = timeout.toNanos();
        for (int i = 0; i < streams.length; i++) {
            streams[i] = new Stream(i);
        }
    }

    @Override
    void dispatch(long intended) {
        boolean measured = stats.measures(intended);
        long now = clock.nanoTime();
        giveUpOn(now - timeoutNanos);
        stats.sending();
        if (schedule.sent(intended, now)) {
            stats.behindSchedule(measured);
        }
        long id = sent++;
        pending.put(id, new Sent(intended, measured));
        ModelInferRequest request = load.request(id).toBuilder().setId(Long.toString(id)).build();
        streams[(int) (id % streams.length)].send(request);
    }

    @Override
    boolean idle() {
        giveUpOn(clock.nanoTime() - timeoutNanos);
        return pending.isEmpty();
    }

    @Override
    void closeConnections() {
        giveUpOn(Long.MAX_VALUE);
        for (Stream s : streams) {
            s.close();
        }
    }

    /** Counts the requests sent before {@code sentBefore} that are still unanswered as failed. */
    private void giveUpOn(long sentBefore) {
        for (Map.Entry<Long, Sent> e = pending.firstEntry(); e != null && e.getValue().intended() < sentBefore;
                e = pending.firstEntry()) {
            if (pending.remove(e.getKey()) != null) {
                stats.error("grpc_stream_no_answer", e.getValue().measured());
                stats.ended();
            }
        }
    }

    private void answered(ModelStreamInferResponse response) {
        Sent s;
        try {
            s = pending.remove(Long.parseLong(response.getInferResponse().getId()));
        } catch (NumberFormatException e) {
            s = null;
        }
        watch.alive();
        if (s == null) {
            return; // given up on already, or not ours
        }
        if (response.getErrorMessage().isEmpty()) {
            stats.success(clock.nanoTime() - s.intended(), s.measured());
        } else {
            stats.error("grpc_stream_error", s.measured());
        }
        stats.ended();
    }

    /** One stream, reopened on the next send after it fails; its requests then go unanswered. */
    private final class Stream implements StreamObserver<ModelStreamInferResponse> {
        private final int channel;
        private StreamObserver<ModelInferRequest> out;

        Stream(int channel) {
            this.channel = channel;
        }

        synchronized void send(ModelInferRequest request) {
            if (out == null) {
                out = load.stub(channel).modelStreamInfer(this);
            }
            out.onNext(request);
        }

        @Override
        public void onNext(ModelStreamInferResponse value) {
            answered(value);
        }

        @Override
        public void onError(Throwable t) {
            synchronized (this) {
                out = null;
            }
            // The stream's failure itself; its unanswered requests count when they are given up on.
            Status status = Status.fromThrowable(t);
            if (status.getCode() == Status.Code.UNAVAILABLE) {
                watch.connectFailed(t);
            }
            stats.error("grpc_stream_" + status.getCode().name().toLowerCase(Locale.ROOT),
                    stats.phase() == LevelStats.Phase.MEASURE);
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                out = null;
            }
        }

        synchronized void close() {
            if (out != null) {
                try {
                    out.onCompleted();
                } catch (RuntimeException e) {
                    // already closed
                }
                out = null;
            }
        }
    }
}
