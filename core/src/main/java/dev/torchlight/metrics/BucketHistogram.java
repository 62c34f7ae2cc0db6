package dev.torchlight.metrics;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts observations into fixed buckets, in the shape Prometheus histograms take: upper bounds
 * (inclusive), one more bucket for everything above the last, and the sum of all observations.
 * Recording is a binary search and two {@link LongAdder} additions: no locks, no allocation.
 */
public final class BucketHistogram {
    /**
     * Latency bounds in nanoseconds, 100 µs to 10 s: fine where a batched model answers (sub-ms to
     * tens of ms), with a bound at 50 ms for the p99 alert.
     */
    public static final long[] LATENCY_BOUNDS_NANOS = millis(
            0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000);

    private final long[] bounds;
    private final LongAdder[] counts;
    private final LongAdder sum = new LongAdder();

    /** @param bounds strictly ascending upper bounds (inclusive) */
    public BucketHistogram(long[] bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (bounds[i] <= bounds[i - 1]) {
                throw new IllegalArgumentException("bounds must be strictly ascending: " + Arrays.toString(bounds));
            }
        }
        this.bounds = bounds.clone();
        this.counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Powers of two from 1 up to and including {@code max} (and {@code max} itself when it is not one). */
    public static long[] batchSizeBounds(int max) {
        int top = Math.max(1, max);
        long[] bounds = new long[64];
        int n = 0;
        for (long b = 1; b < top; b *= 2) {
            bounds[n++] = b;
        }
        bounds[n++] = top;
        return Arrays.copyOf(bounds, n);
    }

    public void observe(long value) {
        int i = Arrays.binarySearch(bounds, value);
        counts[i >= 0 ? i : -i - 1].increment();
        sum.add(value);
    }

    /** The upper bounds, without the implicit +Inf bucket. */
    public long[] bounds() {
        return bounds.clone();
    }

    public Snapshot snapshot() {
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].sum();
        }
        return new Snapshot(bounds.clone(), c, sum.sum());
    }

    /**
     * One reading.
     *
     * @param bounds upper bounds (inclusive)
     * @param counts observations per bucket, not cumulative; one more than {@code bounds}, the last for +Inf
     * @param sum sum of the observed values
     */
    public record Snapshot(long[] bounds, long[] counts, long sum) {
        /** All observations. */
        public long count() {
            long total = 0;
            for (long c : counts) {
                total += c;
            }
            return total;
        }
    }

    private static long[] millis(double... values) {
        long[] nanos = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            nanos[i] = Math.round(values[i] * TimeUnit.MILLISECONDS.toNanos(1));
        }
        return nanos;
    }
}
