package dev.torchlight.bench.load;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides that the server has gone: every connection attempt failed, with no answer or successful
 * connect in between, for a grace period. A server that is merely slow or failing requests is
 * measured, never declared gone.
 */
final class ServerWatch {
    private static final long NO_STREAK = Long.MIN_VALUE;

    private final NanoClock clock;
    private final long graceNanos;
    private final AtomicLong streakStart = new AtomicLong(NO_STREAK);
    private final CountDownLatch gone = new CountDownLatch(1);
    private volatile long goneSince;
    private volatile Throwable lastCause;

    ServerWatch(NanoClock clock, Duration grace) {
        this.clock = clock;
        this.graceNanos = grace.toNanos();
    }

    /** A connection opened or an answer arrived: the server is there. */
    void alive() {
        // Read first: the common case writes nothing, so event loops do not contend on the line.
        if (streakStart.get() != NO_STREAK) {
            streakStart.set(NO_STREAK);
        }
    }

    /** A connection attempt failed. */
    void connectFailed(Throwable cause) {
        long now = clock.nanoTime();
        lastCause = cause;
        streakStart.compareAndSet(NO_STREAK, now);
        long since = streakStart.get();
        if (since != NO_STREAK && now - since >= graceNanos && gone.getCount() > 0) {
            goneSince = since;
            gone.countDown();
        }
    }

    /** Waits up to {@code nanos} for the server to be declared gone; true when it is. */
    boolean awaitGone(long nanos) throws InterruptedException {
        return gone.await(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    boolean isGone() {
        return gone.getCount() == 0;
    }

    /** When the failing streak that made the server gone began (clock time). */
    long goneSince() {
        return goneSince;
    }

    /** Why the last connection attempt failed, in a few words: {@code connection refused}. */
    String reason() {
        Throwable cause = lastCause;
        if (cause == null) {
            return "connection failed";
        }
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof ConnectException && message.toLowerCase(Locale.ROOT).contains("refused")) {
            return "connection refused";
        }
        if (cause instanceof ConnectTimeoutException) {
            return "connect timed out";
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : message;
    }
}
