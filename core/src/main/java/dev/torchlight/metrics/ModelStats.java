package dev.torchlight.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals for one model version, in the shape of the v2 statistics extension. Written on
 * the request path with {@link LongAdder}s (no locks, no allocation); read as a {@link Snapshot}.
 *
 * <p>Engine runs are also counted per batch size (rows in the run): sizes from 1 to the maximum
 * given at construction live in a table indexed by size whose counters are created on a size's
 * first run, so recording allocates nothing once each size has been seen. Sizes outside the table
 * (which a batcher that respects {@code max_batch_size} never forms) are still counted, in a map.
 */
public final class ModelStats {
    /** Largest batch size kept in the table when none is given: the table then costs 8 KiB at most. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 1024;

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
    /** Index = batch size; a slot stays null until that size first runs. */
    private final AtomicReferenceArray<BatchCounter> batches;
    /** Batch sizes beyond the table (or below 1). */
    private final Map<Integer, BatchCounter> otherBatches = new ConcurrentHashMap<>();

    private static final class BatchCounter {
        final LongAdder count = new LongAdder();
        final LongAdder ns = new LongAdder();
    }

    /** Batch sizes up to {@link #DEFAULT_MAX_BATCH_SIZE} are counted without allocation. */
    public ModelStats() {
        this(DEFAULT_MAX_BATCH_SIZE);
    }

    /**
     * @param maxBatchSize the largest batch size counted without allocation, normally the model's
     *     {@code max_batch_size} (at least 1 is kept, for unbatched models)
     */
    public ModelStats(int maxBatchSize) {
        if (maxBatchSize < 0) {
            throw new IllegalArgumentException("maxBatchSize must be >= 0, got " + maxBatchSize);
        }
        this.batches = new AtomicReferenceArray<>(Math.max(1, maxBatchSize) + 1);
    }

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

    /** One engine run of {@code rows} rows took {@code ns}; also counted under batch size {@code rows}. */
    public void recordExecution(int rows, long ns) {
        computeCount.increment();
        computeNs.add(ns);
        inferenceCount.add(rows);
        executionCount.increment();
        recordBatch(rows, ns);
        lastInferenceMillis = System.currentTimeMillis();
    }

    /**
     * One engine run of a batch of {@code batchSize} rows computed for {@code computeNs}. Only the
     * per-batch-size statistics; {@link #recordExecution} calls this, so a caller that records the
     * execution must not call it again for the same run.
     */
    public void recordBatch(int batchSize, long computeNs) {
        BatchCounter counter = counter(batchSize);
        counter.count.increment();
        counter.ns.add(computeNs);
    }

    private BatchCounter counter(int batchSize) {
        if (batchSize >= 1 && batchSize < batches.length()) {
            BatchCounter counter = batches.getAcquire(batchSize);
            if (counter != null) {
                return counter;
            }
            BatchCounter created = new BatchCounter();
            BatchCounter witness = batches.compareAndExchange(batchSize, null, created);
            return witness == null ? created : witness;
        }
        return otherBatches.computeIfAbsent(batchSize, size -> new BatchCounter());
    }

    public Snapshot snapshot() {
        List<BatchStat> sizes = new ArrayList<>();
        for (int size = 1; size < batches.length(); size++) {
            BatchCounter counter = batches.get(size);
            if (counter != null) {
                sizes.add(new BatchStat(size, counter.count.sum(), counter.ns.sum()));
            }
        }
        otherBatches.forEach((size, counter) -> sizes.add(new BatchStat(size, counter.count.sum(), counter.ns.sum())));
        sizes.sort(Comparator.comparingInt(BatchStat::batchSize));
        return new Snapshot(successCount.sum(), successNs.sum(), failCount.sum(), failNs.sum(), queueCount.sum(),
                queueNs.sum(), computeCount.sum(), computeNs.sum(), inferenceCount.sum(), executionCount.sum(),
                lastInferenceMillis, sizes);
    }

    /**
     * Engine runs of one batch size.
     *
     * @param batchSize rows in each run
     * @param count runs of this size
     * @param ns their summed compute time
     */
    public record BatchStat(int batchSize, long count, long ns) {}

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
     * @param batches engine runs by batch size, ascending, only sizes that ran
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
            long lastInferenceMillis,
            List<BatchStat> batches) {

        /** All zeros, for versions that never loaded. */
        public static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of());

        public Snapshot {
            batches = List.copyOf(batches);
        }

        /** Totals without batch-size statistics. */
        public Snapshot(long successCount, long successNs, long failCount, long failNs, long queueCount, long queueNs,
                long computeCount, long computeNs, long inferenceCount, long executionCount,
                long lastInferenceMillis) {
            this(successCount, successNs, failCount, failNs, queueCount, queueNs, computeCount, computeNs,
                    inferenceCount, executionCount, lastInferenceMillis, List.of());
        }
    }
}
