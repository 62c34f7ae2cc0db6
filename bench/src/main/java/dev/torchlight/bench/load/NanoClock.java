package dev.torchlight.bench.load;

/** A monotonic clock in nanoseconds; tests pass a fake one to drive timing logic without sleeping. */
@FunctionalInterface
interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
