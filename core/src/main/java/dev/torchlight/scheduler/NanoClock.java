package dev.torchlight.scheduler;

/**
 * A monotonic clock in nanoseconds, like {@link System#nanoTime()}: only differences between its
 * readings mean anything. Every timing decision of the scheduler reads time through this interface,
 * so tests drive it with a fake clock instead of sleeping.
 */
@FunctionalInterface
public interface NanoClock {
    /** The system's monotonic clock. */
    NanoClock SYSTEM = System::nanoTime;

    /** A reading no clock reaches: a wake-up time that means "not before something happens". */
    long NEVER = Long.MAX_VALUE;

    /** The current reading, in nanoseconds. */
    long nanoTime();
}
