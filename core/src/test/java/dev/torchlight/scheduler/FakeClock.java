package dev.torchlight.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A clock that moves only when told to. Starts far from zero so no code can rely on zero. A thread
 * waiting on it ({@link #awaitUntil}) wakes when signalled or when {@link #advance} reaches its
 * wake-up time, never because real time passed; {@link #awaitParked} lets a test wait until the
 * scheduler has settled, instead of sleeping.
 */
final class FakeClock implements NanoClock {
    /** How long {@link #awaitParked} waits before it fails: a bug fails its test instead of hanging it. */
    private static final long PARK_TIMEOUT_SECONDS = 10;

    /** A thread waiting on {@code condition} until {@code wakeAt}; compared by identity. */
    private static final class Waiter {
        final ReentrantLock lock;
        final Condition condition;
        final long wakeAt;

        Waiter(ReentrantLock lock, Condition condition, long wakeAt) {
            this.lock = lock;
            this.condition = condition;
            this.wakeAt = wakeAt;
        }
    }

    // Guarded by this.
    private long now = 1_000_000_000_000L;
    private final List<Waiter> waiters = new ArrayList<>();
    /** Counts waiters coming and going, so {@link #awaitParked} sees every change. */
    private long changes;
    /** Times a thread parked on this clock. */
    private long parks;

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    /** Moves the clock on, waking the waiters whose wake-up time it reaches. */
    void advance(long amount, TimeUnit unit) {
        List<Waiter> due = new ArrayList<>();
        synchronized (this) {
            now += unit.toNanos(amount);
            for (Waiter w : waiters) {
                if (w.wakeAt <= now) {
                    due.add(w);
                }
            }
        }
        // Outside this clock's monitor: a waiter holds its lock while it takes the monitor.
        for (Waiter w : due) {
            w.lock.lock();
            try {
                w.condition.signalAll();
            } finally {
                w.lock.unlock();
            }
        }
    }

    /** Waits until signalled or until {@link #advance} reaches {@code wakeAtNanos}; {@code lock} is a ReentrantLock. */
    @Override
    public void awaitUntil(Lock lock, Condition condition, long wakeAtNanos) throws InterruptedException {
        Waiter waiter = new Waiter((ReentrantLock) lock, condition, wakeAtNanos);
        synchronized (this) {
            // Checked and registered together with advance's moving and scanning, so no wake-up is lost;
            // the caller holds its lock until await releases it, so advance cannot signal too early.
            if (wakeAtNanos <= now) {
                return;
            }
            waiters.add(waiter);
            parks++;
            changed();
        }
        try {
            condition.await();
        } finally {
            synchronized (this) {
                waiters.remove(waiter);
                changed();
            }
        }
    }

    /** How many times a thread parked on this clock: one more each time the scheduler was woken and settled. */
    synchronized long parks() {
        return parks;
    }

    /**
     * Waits until a thread is parked on this clock and has not been signalled since it parked: for
     * the scheduler, parked having seen everything that happened so far.
     *
     * @return the reading it waits for, or {@link NanoClock#NEVER} when it waits only to be signalled
     * @throws AssertionError when no thread parks within 10 s
     */
    long awaitParked() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PARK_TIMEOUT_SECONDS);
        while (true) {
            long seen;
            List<Waiter> snapshot;
            synchronized (this) {
                seen = changes;
                snapshot = List.copyOf(waiters);
            }
            for (Waiter w : snapshot) {
                if (parked(w)) {
                    return w.wakeAt;
                }
            }
            synchronized (this) {
                while (changes == seen) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("no thread parked on the clock within " + PARK_TIMEOUT_SECONDS + " s");
                    }
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            }
        }
    }

    /**
     * Whether {@code w} still waits and has not been signalled. Under its lock the waiter cannot come or
     * go, and a signalled thread no longer counts among the condition's waiters.
     */
    private boolean parked(Waiter w) {
        w.lock.lock();
        try {
            synchronized (this) {
                if (!waiters.contains(w)) {
                    return false;
                }
            }
            return w.lock.hasWaiters(w.condition);
        } finally {
            w.lock.unlock();
        }
    }

    private void changed() {
        changes++;
        notifyAll();
    }
}
