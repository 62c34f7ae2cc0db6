package dev.torchlight.bench.load;

import dev.torchlight.bench.result.LevelResult;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * What one sweep level counts, from many event loops at once. A request belongs to the measured
 * window when it was sent in it (open loop: when its intended send time is in it), and is counted
 * when it ends, even after the window closed: every request the server saw in the window is in
 * the result, and the window lasts until the last of them ended. Warm-up requests count for the
 * progress line only.
 */
final class LevelStats {
    enum Phase { WARMUP, MEASURE, DONE }

    private final LatencyRecorder latencies = new LatencyRecorder();
    private final LongAdder successes = new LongAdder();
    private final LongAdder phaseErrors = new LongAdder();
    private final LongAdder behind = new LongAdder();
    private final Map<String, LongAdder> errorsByKind = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile Phase phase = Phase.WARMUP;
    private volatile long measureStart;
    private volatile boolean measureBegan;
    private long measureEnd;

    Phase phase() {
        return phase;
    }

    /** Whether requests should still be sent. */
    boolean running() {
        return phase != Phase.DONE;
    }

    /** Whether a request meant to leave at {@code nanoTime} belongs to the measured window. */
    boolean measures(long nanoTime) {
        return measureBegan && nanoTime - measureStart >= 0;
    }

    /** A request is about to be written. */
    void sending() {
        inFlight.incrementAndGet();
    }

    /** A request written earlier has ended; call after counting its outcome. */
    void ended() {
        inFlight.decrementAndGet();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** A successful answer; {@code measured} says whether its request belongs to the window. */
    void success(long latencyNanos, boolean measured) {
        successes.increment();
        if (measured) {
            latencies.recordNanos(latencyNanos);
        }
    }

    /** A failed request; {@code measured} says whether it belongs to the window. */
    void error(String kind, boolean measured) {
        phaseErrors.increment();
        if (measured) {
            errorsByKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
        }
    }

    /** A failure that belongs to no sent request (a failed connect): counted by the current phase. */
    void error(String kind) {
        Phase p = phase;
        if (p != Phase.DONE) {
            error(kind, p == Phase.MEASURE);
        }
    }

    /** An open-loop send left more than 1 ms after its intended time. */
    void behindSchedule(boolean measured) {
        if (measured) {
            behind.increment();
        }
    }

    /** Successful answers in any phase so far, for the progress line's rate. */
    long successesSoFar() {
        return successes.sum();
    }

    /** Errors in the current phase so far, for the progress line. */
    long phaseErrors() {
        return phaseErrors.sum();
    }

    /** Rolls the latencies recorded since the last call into the measured total. */
    void rollLatencies() {
        latencies.roll();
    }

    /** p99 of the measured window so far, in ms (as of the last roll). */
    double p99SoFarMs() {
        return latencies.totalPercentileMicros(99) / 1000.0;
    }

    /** Opens the measured window: requests sent from now on are measured. */
    void beginMeasure(long now) {
        measureStart = now;
        measureBegan = true;
        phaseErrors.reset();
        phase = Phase.MEASURE;
    }

    /** Stops sending; requests already sent are still counted as they end. */
    void finish(long now) {
        if (phase == Phase.MEASURE) {
            measureEnd = now;
        }
        phase = Phase.DONE;
    }

    /** The requests of the window have all ended (or been given up on): the window closes now. */
    void drained(long now) {
        if (measureBegan) {
            measureEnd = Math.max(measureEnd, now);
        }
    }

    /** Whether the measured window began, so there is a result to report. */
    boolean measured() {
        return measureBegan;
    }

    /** The measured window's result; call after {@link #drained}. */
    LevelResult result(Integer concurrency, Double rate, int batch) {
        latencies.roll();
        Histogram h = latencies.total();
        double seconds = Math.max(1, measureEnd - measureStart) / 1e9;
        Map<String, Long> errors = new TreeMap<>();
        errorsByKind.forEach((kind, count) -> errors.put(kind, count.sum()));
        long errorCount = errors.values().stream().mapToLong(Long::longValue).sum();
        long ok = h.getTotalCount();
        return new LevelResult(concurrency, rate, batch,
                ok / seconds, ok * (double) batch / seconds,
                ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), ok == 0 ? 0 : h.getMaxValue() / 1000.0,
                ok + errorCount, errorCount, errors, behind.sum());
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }
}
