package dev.torchlight.bench.load;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latencies in microseconds: event loops record wait-free into an HdrHistogram {@link Recorder};
 * one reader takes interval snapshots (for live progress) and adds them into a running total
 * (for the result).
 */
final class LatencyRecorder {
    /** One hour: anything slower is recorded as one hour. */
    static final long HIGHEST_MICROS = 3_600_000_000L;
    static final int SIGNIFICANT_DIGITS = 3;

    private final Recorder recorder = new Recorder(1, HIGHEST_MICROS, SIGNIFICANT_DIGITS);
    private final Histogram total = newHistogram();
    private Histogram interval;

    static Histogram newHistogram() {
        return new Histogram(1, HIGHEST_MICROS, SIGNIFICANT_DIGITS);
    }

    /** Records one latency; safe from any thread. */
    void recordNanos(long nanos) {
        recorder.recordValue(Math.clamp(nanos / 1000, 0, HIGHEST_MICROS));
    }

    /**
     * Moves everything recorded since the last call into the total and returns it as an interval
     * histogram, valid until the next call.
     */
    synchronized Histogram roll() {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        return interval;
    }

    /** A percentile of the total so far, in microseconds; 0 when nothing was recorded. */
    synchronized long totalPercentileMicros(double percentile) {
        return total.getTotalCount() == 0 ? 0 : total.getValueAtPercentile(percentile);
    }

    /** A copy of the total of every rolled interval. */
    synchronized Histogram total() {
        return total.copy();
    }
}
