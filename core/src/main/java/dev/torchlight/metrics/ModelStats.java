package dev.torchlight.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals for one model version, in the shape of the v2 statistics extension. Written on
 * the request path with {@link LongAdder}s (no locks, no allocation); read as a {@link Snapshot}.
 */
public final class ModelStats {
    private final LongAdder successCount = new LongAdder();
    private final LongAdder successNs = new LongAdder();
    private final LongAdder failCount = new LongAdder();
    private final LongAdder failNs = new LongAdder();
    private final LongAdder queueCount = new LongAdder();
    private final LongAdder queueNs = new LongAdder();
    private final LongAdder computeCount = new LongAdder();
    private final LongAdder computeNs = new LongAdder();
    private final LongAdder inferenceCount = new LongAdder();
    private final LongAdder executionCount = new LongAdder();
    private volatile long lastInferenceMillis;

    /** A request finished with an answer, {@code ns} after it arrived. */
    public void recordSuccess(long ns) {
        successCount.increment();
        successNs.add(ns);
    }

    /** A request finished with an error, {@code ns} after it arrived. */
    public void recordFailure(long ns) {
        failCount.increment();
        failNs.add(ns);
    }

    /** A request waited {@code ns} in the queue before its run began. */
    public void recordQueue(long ns) {
        queueCount.increment();
        queueNs.add(ns);
    }

    /** One engine run of {@code rows} rows took {@code ns}. */
    public void recordExecution(int rows, long ns) {
        computeCount.increment();
        computeNs.add(ns);
        inferenceCount.add(rows);
        executionCount.increment();
        lastInferenceMillis = System.currentTimeMillis();
    }

    public Snapshot snapshot() {
        return new Snapshot(successCount.sum(), successNs.sum(), failCount.sum(), failNs.sum(), queueCount.sum(),
                queueNs.sum(), computeCount.sum(), computeNs.sum(), inferenceCount.sum(), executionCount.sum(),
                lastInferenceMillis);
    }

    /**
     * Totals at one moment.
     *
     * @param successCount requests answered
     * @param successNs their summed end-to-end time inside the server
     * @param failCount requests that failed (after reaching the model)
     * @param failNs their summed time
     * @param queueCount requests that waited in the queue
     * @param queueNs their summed queue time
     * @param computeCount engine runs
     * @param computeNs their summed time
     * @param inferenceCount rows inferred
     * @param executionCount engine runs (batches)
     * @param lastInferenceMillis epoch millis of the last run, 0 if none
     */
    public record Snapshot(
            long successCount,
            long successNs,
            long failCount,
            long failNs,
            long queueCount,
            long queueNs,
            long computeCount,
            long computeNs,
            long inferenceCount,
            long executionCount,
            long lastInferenceMillis) {

        /** All zeros, for versions that never loaded. */
        public static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
}
