package dev.torchlight.server.http;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts requests being served so that shutdown can let them finish and refuse new ones. */
final class InFlightRequests {
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean closing;

    /** Registers a request; false once shutdown has begun. */
    boolean tryEnter() {
        count.incrementAndGet();
        if (closing) {
            exit();
            return false;
        }
        return true;
    }

    void exit() {
        if (count.decrementAndGet() == 0 && closing) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Refuses new requests and waits up to {@code timeout} for the running ones; true if all finished. */
    boolean closeAndAwait(long timeout, TimeUnit unit) throws InterruptedException {
        closing = true;
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (this) {
            while (count.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        return true;
    }
}
