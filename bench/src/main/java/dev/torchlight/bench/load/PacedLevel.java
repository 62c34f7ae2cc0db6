package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.result.LevelResult;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop level: one pacing thread releases sends at their intended times
 * ({@link OpenLoopSchedule}) and hands each to {@link #dispatch}, whatever the answers do.
 */
abstract class PacedLevel extends LoadLevel {
    final double rate;
    final NanoClock clock;
    volatile OpenLoopSchedule schedule;
    private Thread pacer;

    PacedLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch,
            double rate, NanoClock clock) {
        super(client, requests, protocol, watch, batch);
        this.rate = rate;
        this.clock = clock;
    }

    /** Makes (or queues) the send meant for {@code intended}; called on the pacing thread. */
    abstract void dispatch(long intended);

    @Override
    final String label() {
        return String.format(Locale.ROOT, "rate=%.0f/s", rate);
    }

    @Override
    final void start() {
        schedule = new OpenLoopSchedule(clock, rate); // send 0 is due now
        pacer = Thread.ofPlatform().name("torchlight-bench-pacer").daemon().start(this::pace);
    }

    @Override
    final void stop() {
        pacer.interrupt();
        try {
            pacer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    final LevelResult result() {
        return stats.result(null, rate, batch);
    }

    private void pace() {
        while (stats.running() && !Thread.currentThread().isInterrupted()) {
            long intended = schedule.takeDue();
            if (intended != OpenLoopSchedule.NONE) {
                dispatch(intended);
            } else {
                // parkNanos wakes ~50 µs late at worst; sends due meanwhile go out together.
                LockSupport.parkNanos(schedule.nanosUntilNext());
            }
        }
    }
}
