package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.result.LevelResult;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop level: a pacer releases sends at their intended times ({@link OpenLoopSchedule})
 * and hands each to {@link #dispatch}, whatever the answers do. The pacer is a thread of its own,
 * or timed tasks on the event loop that {@link #pacingLoop} names: then a send made on a
 * connection of that loop goes out with no hand-off between threads.
 */
abstract class PacedLevel extends LoadLevel {
    final double rate;
    final NanoClock clock;
    volatile OpenLoopSchedule schedule;
    private Thread pacer;
    private ScheduledExecutorService loop;
    // Confined to the loop.
    private boolean stopped;
    private Future<?> nextTick;

    PacedLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch,
            double rate, NanoClock clock) {
        super(client, requests, protocol, watch, batch);
        this.rate = rate;
        this.clock = clock;
    }

    /** Makes (or queues) the send meant for {@code intended}; called on the pacing thread. */
    abstract void dispatch(long intended);

    /** The event loop to pace on, or null for a pacing thread of its own. */
    ScheduledExecutorService pacingLoop() {
        return null;
    }

    @Override
    final String label() {
        return String.format(Locale.ROOT, "rate=%.0f/s", rate);
    }

    @Override
    final void start() {
        schedule = new OpenLoopSchedule(clock, rate); // send 0 is due now
        loop = pacingLoop();
        if (loop != null) {
            loop.execute(this::tick);
            return;
        }
        pacer = Thread.ofPlatform().name("torchlight-bench-pacer").daemon().start(this::pace);
    }

    @Override
    final void stop() {
        if (loop != null) {
            // On the loop itself, so that no tick runs after it.
            waitFor(loop.submit(() -> {
                stopped = true;
                if (nextTick != null) {
                    nextTick.cancel(false);
                }
            }));
            return;
        }
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

    private static void waitFor(Future<?> done) {
        try {
            done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("stopping the pacer failed", e.getCause());
        }
    }

    /** One pacing step on the loop: the sends due now, then a timed task for the next. */
    private void tick() {
        if (stopped || !stats.running()) {
            return;
        }
        long intended;
        while ((intended = schedule.takeDue()) != OpenLoopSchedule.NONE) {
            dispatch(intended);
        }
        nextTick = loop.schedule(this::tick, schedule.nanosUntilNext(), TimeUnit.NANOSECONDS);
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
