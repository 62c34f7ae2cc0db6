package dev.torchlight.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
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
 *
 * <p>For metrics it also keeps failures by {@link Outcome}, the requests in flight and, unless
 * built without them, {@link BucketHistogram}s of end-to-end, queue and compute time and of batch
 * sizes; all of it as adders, so the hot path stays free of locks and allocation.
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
    /** Failures by outcome, indexed by {@link Outcome#ordinal()}; the SUCCESS slot stays unused. */
    private final LongAdder[] failures = new LongAdder[Outcome.all().length];
    private final LongAdder inFlight = new LongAdder();
    /** Null when built without histograms. */
    private final BucketHistogram requestLatency;
    private final BucketHistogram queueLatency;
    private final BucketHistogram computeLatency;
    private final BucketHistogram batchSizes;

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
        this(maxBatchSize, true);
    }

    /**
     * @param maxBatchSize as {@link #ModelStats(int)}
     * @param histograms whether to keep latency and batch-size histograms (for metrics); without
     *     them only the totals are kept
     */
    public ModelStats(int maxBatchSize, boolean histograms) {
        if (maxBatchSize < 0) {
            throw new IllegalArgumentException("maxBatchSize must be >= 0, got " + maxBatchSize);
        }
        this.batches = new AtomicReferenceArray<>(Math.max(1, maxBatchSize) + 1);
        for (int i = 0; i < failures.length; i++) {
            failures[i] = new LongAdder();
        }
        this.requestLatency = histograms ? new BucketHistogram(BucketHistogram.LATENCY_BOUNDS_NANOS) : null;
        this.queueLatency = histograms ? new BucketHistogram(BucketHistogram.LATENCY_BOUNDS_NANOS) : null;
        this.computeLatency = histograms ? new BucketHistogram(BucketHistogram.LATENCY_BOUNDS_NANOS) : null;
        this.batchSizes = histograms ? new BucketHistogram(BucketHistogram.batchSizeBounds(maxBatchSize)) : null;
    }

    /** A request was accepted for this version; {@link #recordSuccess} or {@link #recordFailure} follows. */
    public void requestStarted() {
        inFlight.increment();
    }

    /** A request finished with an answer, {@code ns} after it arrived. */
    public void recordSuccess(long ns) {
        successCount.increment();
        successNs.add(ns);
        if (requestLatency != null) {
            requestLatency.observe(ns);
        }
    }

    /** A request finished with an internal error, {@code ns} after it arrived. */
    public void recordFailure(long ns) {
        recordFailure(Outcome.INTERNAL, ns);
    }

    /**
     * A request was refused before it was queued (invalid input, full queue, no healthy instance):
     * counted by outcome only, not as a failure of the v2 statistics nor in the latency histogram.
     */
    public void recordRefusal(Outcome outcome) {
        failures[outcome == Outcome.SUCCESS ? Outcome.INTERNAL.ordinal() : outcome.ordinal()].increment();
    }

    /** An accepted request failed with {@code outcome} (not SUCCESS), {@code ns} after it arrived. */
    public void recordFailure(Outcome outcome, long ns) {
        failCount.increment();
        failNs.add(ns);
        failures[outcome == Outcome.SUCCESS ? Outcome.INTERNAL.ordinal() : outcome.ordinal()].increment();
        if (requestLatency != null) {
            requestLatency.observe(ns);
        }
    }

    /** A request counted by {@link #requestStarted} finished (after its success or failure was recorded). */
    public void requestFinished() {
        inFlight.decrement();
    }

    /** A request waited {@code ns} in the queue before its run began. */
    public void recordQueue(long ns) {
        queueCount.increment();
        queueNs.add(ns);
        if (queueLatency != null) {
            queueLatency.observe(ns);
        }
    }

    /** One engine run of {@code rows} rows took {@code ns}; also counted under batch size {@code rows}. */
    public void recordExecution(int rows, long ns) {
        computeCount.increment();
        computeNs.add(ns);
        inferenceCount.add(rows);
        executionCount.increment();
        recordBatch(rows, ns);
        if (computeLatency != null) {
            computeLatency.observe(ns);
            batchSizes.observe(rows);
        }
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
        Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.all()) {
            outcomes.put(o, o == Outcome.SUCCESS ? 0 : failures[o.ordinal()].sum());
        }
        long success = successCount.sum();
        outcomes.put(Outcome.SUCCESS, success);
        return new Snapshot(success, successNs.sum(), failCount.sum(), failNs.sum(), queueCount.sum(),
                queueNs.sum(), computeCount.sum(), computeNs.sum(), inferenceCount.sum(), executionCount.sum(),
                lastInferenceMillis, sizes, outcomes, inFlight.sum(), histogram(requestLatency),
                histogram(queueLatency), histogram(computeLatency), histogram(batchSizes));
    }

    private static BucketHistogram.Snapshot histogram(BucketHistogram h) {
        return h == null ? null : h.snapshot();
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
     * @param outcomes requests by outcome, refusals included (SUCCESS = {@code successCount}; the
     *     others sum to {@code failCount} plus the refused requests); every outcome is present
     * @param inFlight requests accepted and not yet finished
     * @param requestLatency end-to-end times in ns of the requests counted by {@code successCount} and
     *     {@code failCount}, or null without histograms
     * @param queueLatency queue times in ns, or null
     * @param computeLatency engine run times in ns, or null
     * @param batchSizes rows per engine run, or null
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
            List<BatchStat> batches,
            Map<Outcome, Long> outcomes,
            long inFlight,
            BucketHistogram.Snapshot requestLatency,
            BucketHistogram.Snapshot queueLatency,
            BucketHistogram.Snapshot computeLatency,
            BucketHistogram.Snapshot batchSizes) {

        /** All zeros, for versions that never loaded. */
        public static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of());

        public Snapshot {
            batches = List.copyOf(batches);
            Map<Outcome, Long> all = new EnumMap<>(Outcome.class);
            for (Outcome o : Outcome.all()) {
                all.put(o, 0L);
            }
            all.putAll(outcomes);
            outcomes = Collections.unmodifiableMap(all);
        }

        /** Totals with batch-size statistics, without outcomes and histograms. */
        public Snapshot(long successCount, long successNs, long failCount, long failNs, long queueCount, long queueNs,
                long computeCount, long computeNs, long inferenceCount, long executionCount,
                long lastInferenceMillis, List<BatchStat> batches) {
            this(successCount, successNs, failCount, failNs, queueCount, queueNs, computeCount, computeNs,
                    inferenceCount, executionCount, lastInferenceMillis, batches, Map.of(Outcome.SUCCESS, successCount),
                    0, null, null, null, null);
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
