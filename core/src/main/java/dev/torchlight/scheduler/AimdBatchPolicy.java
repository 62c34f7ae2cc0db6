package dev.torchlight.scheduler;

import dev.torchlight.config.DynamicBatching;
import java.util.List;

/**
 * Clipper's adaptive batching ({@code latency_policy: aimd}): what is queued runs at once, up to a
 * batch-size cap that grows by one row after every run whose slowest request met the latency target,
 * and shrinks by 10% after one that did not (additive increase, multiplicative decrease). It learns
 * nothing about arrivals and never waits: kept to compare the learned policy against.
 */
final class AimdBatchPolicy implements BatchPolicy {
    static final double DECREASE = 0.9;

    private final long targetNanos;
    private final int maxBatchSize;
    private final PriorityAging aging;
    private final LatencyWindow latencies = new LatencyWindow();
    // Written by the instances' threads, read by decisions.
    private volatile double cap = 1;
    private double rowsAverage;

    /** @param maxBatchSize the model's {@code max_batch_size}: the cap grows no further */
    AimdBatchPolicy(DynamicBatching batching, int maxBatchSize) {
        if (!batching.hasLatencyTarget()) {
            throw new IllegalArgumentException("needs a latency target");
        }
        this.targetNanos = Math.multiplyExact(batching.latencyTargetMicros(), 1000L);
        this.maxBatchSize = maxBatchSize;
        this.aging = new PriorityAging(targetNanos);
    }

    @Override
    public Decision decide(RequestQueue queue, long now, int instance, int maxRows) {
        return drain(queue, now, Math.max(1, Math.min(maxRows, (int) cap)));
    }

    @Override
    public Decision drain(RequestQueue queue, long now, int maxRows) {
        BatchCandidate.requireRows(maxRows);
        List<PendingRequest> expired = queue.removeExpired(now);
        if (queue.isEmpty()) {
            return new Decision.Idle(expired);
        }
        BatchCandidate batch = BatchCandidate.form(queue, aging, now, maxRows, true, rows -> false);
        rowsAverage += (batch.rows() - rowsAverage) / 64;
        return batch.run(queue, expired);
    }

    @Override
    public synchronized void batchRan(int instance, List<PendingRequest> batch, long computeNanos, long endNanos) {
        long worst = 0;
        int rows = 0;
        for (PendingRequest r : batch) {
            worst = Math.max(worst, endNanos - r.enqueuedNanos());
            latencies.add(endNanos - r.enqueuedNanos());
            rows += r.rows();
        }
        if (worst > targetNanos) {
            cap = Math.max(1, Math.floor(cap * DECREASE));
        } else if (rows >= (int) cap) {
            // Only a run that used the cap says whether a larger one would still be fast enough.
            cap = Math.min(maxBatchSize, cap + 1);
        }
    }

    @Override
    public BatchingState state() {
        return new BatchingState("aimd", "", targetNanos, targetNanos, latencies.p99(), 0, rowsAverage, (int) cap,
                List.of());
    }
}
