package dev.torchlight.bench.load;

/** A clock tests move by hand. */
final class FakeClock implements NanoClock {
    private long now;

    FakeClock(long start) {
        this.now = start;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    void set(long nanos) {
        now = nanos;
    }

    void advanceMicros(long micros) {
        now += micros * 1000;
    }
}
