package dev.torchlight.scheduler;

import java.util.Arrays;

/**
 * The latencies of the most recent {@link #SIZE} requests and their p99, recomputed every
 * {@link #EVERY} requests (a sort of {@code SIZE} longs: a few tens of nanoseconds per request).
 * Written from the instances' threads: synchronized.
 */
final class LatencyWindow {
    static final int SIZE = 1024;
    static final int EVERY = 128;

    private final long[] ring = new long[SIZE];
    private final long[] sorted = new long[SIZE];
    private long total;
    private long p99;

    /**
     * Adds one request's latency.
     *
     * @return true when this addition refreshed the p99
     */
    synchronized boolean add(long nanos) {
        ring[(int) (total % SIZE)] = nanos;
        total++;
        if (total % EVERY != 0) {
            return false;
        }
        int n = (int) Math.min(total, SIZE);
        System.arraycopy(ring, 0, sorted, 0, n);
        Arrays.sort(sorted, 0, n);
        p99 = sorted[(int) Math.ceil(0.99 * n) - 1];
        return true;
    }

    /** The p99 of the window at its last refresh; 0 before the first. */
    synchronized long p99() {
        return p99;
    }
}
