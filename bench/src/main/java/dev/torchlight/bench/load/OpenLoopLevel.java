package dev.torchlight.bench.load;

import dev.torchlight.bench.http.ConnectListener;
import dev.torchlight.bench.http.Failure;
import dev.torchlight.bench.http.HttpConnection;
import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.http.ResponseListener;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Open loop: sends are released at their intended times ({@link OpenLoopSchedule}) by timed tasks
 * on one of the client's event loops, which also serves every connection the level opens, so the
 * thread that times a send makes it and reads its answer (no hand-off between threads, whose
 * wake-ups a busy machine can delay by milliseconds: latency the server would be charged for).
 * One event loop thread carries the level: tens of thousands of requests a second. Each send goes
 * out on an idle connection, on a new one while fewer than {@code connections} are open, or else
 * waits in a queue. Latency runs from the intended send time, so time spent queued
 * counts. A queued send that has waited longer than the request timeout fails as {@code timeout}.
 * When the level stops, sends already due are still made (or time out) before it ends.
 */
final class OpenLoopLevel extends PacedLevel {
    private final int maxConnections;
    private final long timeoutNanos;
    private final Set<Slot> slots = ConcurrentHashMap.newKeySet();

    // Guarded by this.
    private final ArrayDeque<Slot> idle = new ArrayDeque<>();
    private final ArrayDeque<Long> queued = new ArrayDeque<>();
    private int open;
    private long sent;

    OpenLoopLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch,
            double rate, int maxConnections, Duration requestTimeout, NanoClock clock) {
        super(client, requests, protocol, watch, batch, rate, clock);
        this.maxConnections = maxConnections;
        this.timeoutNanos = requestTimeout.toNanos();
    }

    @Override
    synchronized boolean idle() {
        return queued.isEmpty();
    }

    @Override
    ScheduledExecutorService pacingLoop() {
        return client.pacingLoop();
    }

    @Override
    void closeConnections() {
        slots.forEach(Slot::close);
    }

    /** Sends now on an idle or new connection, or queues. */
    @Override
    void dispatch(long intended) {
        Slot slot;
        boolean fresh = false;
        synchronized (this) {
            slot = idle.poll();
            // A connection the server closed while it sat idle (its idle timeout) is dropped here,
            // as a pooling client does, rather than failing the send that would have used it.
            while (slot != null && !slot.isOpen()) {
                open--;
                slots.remove(slot);
                slot = idle.poll();
            }
            if (slot == null) {
                if (open >= maxConnections) {
                    queued.add(intended);
                    return;
                }
                open++;
                slot = new Slot();
                fresh = true;
            }
        }
        if (fresh) {
            slot.open(intended);
        } else {
            slot.send(intended);
        }
    }

    /**
     * A slot finished its request: it takes the next queued send, or goes idle. A slot whose
     * connection is gone hands the queued send to a new slot instead.
     */
    private void release(Slot slot, boolean usable) {
        long next;
        synchronized (this) {
            next = pollQueued();
            if (next == OpenLoopSchedule.NONE) {
                if (usable) {
                    idle.push(slot);
                } else {
                    open--;
                    slots.remove(slot);
                }
                return;
            }
            if (!usable) {
                slots.remove(slot);
                slot = new Slot();
            }
        }
        if (usable) {
            slot.send(next);
        } else {
            slot.open(next);
        }
    }

    /** The oldest queued send still worth making; those past the request timeout fail as timeouts. */
    private long pollQueued() {
        long now = clock.nanoTime();
        Long next;
        while ((next = queued.poll()) != null) {
            if (now - next <= timeoutNanos) {
                return next;
            }
            stats.error(Failure.TIMEOUT.kind(), stats.measures(next));
        }
        return OpenLoopSchedule.NONE;
    }

    private synchronized long nextIndex() {
        return sent++;
    }

    /**
     * One connection and the send it carries. A send counts as in flight from the moment it is
     * given to a slot, connecting included, so the level does not end under it.
     */
    private final class Slot implements ConnectListener, ResponseListener {
        private volatile HttpConnection connection;
        private long intended;
        private boolean measured;

        /** Opens this slot's connection and then makes the send. */
        void open(long intendedTime) {
            take(intendedTime);
            slots.add(this);
            client.connect(this, client.pacingLoop());
        }

        /** Makes the send on this slot's open connection. */
        void send(long intendedTime) {
            take(intendedTime);
            write();
        }

        boolean isOpen() {
            HttpConnection c = connection;
            return c != null && c.isOpen();
        }

        void close() {
            HttpConnection c = connection;
            if (c != null) {
                c.close();
            }
        }

        private void take(long intendedTime) {
            intended = intendedTime;
            measured = stats.measures(intendedTime);
            stats.sending();
        }

        private void write() {
            if (schedule.sent(intended, clock.nanoTime())) {
                stats.behindSchedule(measured);
            }
            connection.send(requests.get(nextIndex()), this);
        }

        @Override
        public void onConnected(HttpConnection c) {
            watch.alive();
            connection = c;
            write();
        }

        @Override
        public void onConnectFailed(Throwable cause) {
            watch.connectFailed(cause);
            stats.error(Failure.CONNECT.kind(), measured);
            stats.ended();
            release(this, false);
        }

        @Override
        public void onResponse(HttpConnection c, int status, boolean keepAlive) {
            answered(status, clock.nanoTime() - intended, measured);
            stats.ended();
            release(this, keepAlive);
        }

        @Override
        public void onFailure(HttpConnection c, Failure failure, Throwable cause) {
            stats.error(failure.kind(), measured);
            stats.ended();
            release(this, false);
        }
    }
}
