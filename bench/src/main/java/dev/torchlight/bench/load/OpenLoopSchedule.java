package dev.torchlight.bench.load;

import java.util.concurrent.atomic.LongAdder;

/**
 * When the sends of an open-loop run at a fixed rate are meant to leave: send {@code i} at
 * {@code start + i / rate}, whatever happened to the ones before. Latency is measured from these
 * intended times, so a server that stalls is charged for every request it delayed (no
 * coordinated omission), and a send that leaves late counts as behind schedule.
 *
 * <p>{@link #takeDue()} and {@link #nanosUntilNext()} belong to the one pacing thread;
 * {@link #sent(long, long)} may be called from any thread.
 */
final class OpenLoopSchedule {
    /** A send that leaves later than this after its intended time is behind schedule. */
    static final long BEHIND_NANOS = 1_000_000;
    /** {@link #takeDue()}'s answer when nothing is due yet. */
    static final long NONE = Long.MIN_VALUE;

    private final NanoClock clock;
    private final double rate;
    private final long start;
    private final LongAdder behind = new LongAdder();
    private long next;

    /** A schedule starting now (the clock's current time is send 0's intended time). */
    OpenLoopSchedule(NanoClock clock, double ratePerSecond) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("rate must be positive, got " + ratePerSecond);
        }
        this.clock = clock;
        this.rate = ratePerSecond;
        this.start = clock.nanoTime();
    }

    /** The intended send time of send {@code i} (0-based). */
    long intendedTime(long i) {
        // Multiply before dividing: exact for whole rates, and no drift however long the run.
        return start + (long) (i * 1e9 / rate);
    }

    /** How many sends are due by {@code now}: those whose intended time is at or before it. */
    long dueBy(long now) {
        if (now < start) {
            return 0;
        }
        // An estimate from the rate, corrected for rounding against intendedTime itself.
        long n = (long) ((now - start) * rate / 1e9) + 1;
        while (intendedTime(n) <= now) {
            n++;
        }
        while (n > 0 && intendedTime(n - 1) > now) {
            n--;
        }
        return n;
    }

    /** Takes the next send if it is due now, returning its intended time, or {@link #NONE}. */
    long takeDue() {
        long intended = intendedTime(next);
        if (intended > clock.nanoTime()) {
            return NONE;
        }
        next++;
        return intended;
    }

    /** Sends taken so far. */
    long taken() {
        return next;
    }

    /** Nanoseconds until the next untaken send is due; zero or less when it is due already. */
    long nanosUntilNext() {
        return intendedTime(next) - clock.nanoTime();
    }

    /**
     * Notes that a send meant for {@code intended} left at {@code actual}.
     *
     * @return whether it left behind schedule (more than {@link #BEHIND_NANOS} late)
     */
    boolean sent(long intended, long actual) {
        boolean late = actual - intended > BEHIND_NANOS;
        if (late) {
            behind.increment();
        }
        return late;
    }

    /** Sends noted as behind schedule so far. */
    long behindSchedule() {
        return behind.sum();
    }
}
