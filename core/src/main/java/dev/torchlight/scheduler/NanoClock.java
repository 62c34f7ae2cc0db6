package dev.torchlight.scheduler;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * A monotonic clock in nanoseconds, like {@link System#nanoTime()}: only differences between its
 * readings mean anything. Every timing decision of the scheduler reads time through this interface,
 * and every timed wait waits through it ({@link #awaitUntil}), so tests drive it with a fake clock
 * instead of sleeping.
 */
@FunctionalInterface
public interface NanoClock {
    /** The system's monotonic clock. */
    NanoClock SYSTEM = System::nanoTime;

    /** A reading no clock reaches: a wake-up time that means "not before something happens". */
    long NEVER = Long.MAX_VALUE;

    /** The current reading, in nanoseconds. */
    long nanoTime();

    /**
     * Waits on {@code condition} until it is signalled or this clock reads {@code wakeAtNanos} or
     * later. Like {@link Condition#awaitNanos} (what this does by default, with real nanoseconds), it
     * may also return early, so the caller checks again what it waits for. The caller holds
     * {@code lock}, the lock of {@code condition}: a clock whose time is not the system's (a test's
     * fake clock) signals {@code condition} under it once its reading reaches {@code wakeAtNanos}.
     *
     * @param wakeAtNanos a reading of this clock, or {@link #NEVER} to wait until signalled
     * @throws InterruptedException as {@link Condition#await()}
     */
    default void awaitUntil(Lock lock, Condition condition, long wakeAtNanos) throws InterruptedException {
        if (wakeAtNanos == NEVER) {
            condition.await();
        } else {
            condition.awaitNanos(wakeAtNanos - nanoTime());
        }
    }
}
