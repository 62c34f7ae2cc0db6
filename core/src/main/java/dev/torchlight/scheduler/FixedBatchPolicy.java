package dev.torchlight.scheduler;

import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.ModelConfig;
import java.util.List;

/**
 * The fixed policy: a maximum queue delay, preferred batch sizes and priority aging, all from the
 * model's {@code dynamic_batching}. Each decision is a pure function of the queue, the clock reading
 * it is given and the instance's row limit; it learns nothing from the runs.
 *
 * <h2>Batching rules</h2>
 *
 * <ul>
 *   <li>Without {@code dynamic_batching}, or for a model without a batch dimension
 *       ({@code max_batch_size: 0}), every request runs alone, at once, in dispatch order.
 *   <li>Otherwise the batch starts with the first request in dispatch order; it takes the following
 *       requests with the same {@link ShapeKey} (others are skipped and wait for a batch of their
 *       own), whole, until the next one would exceed {@code maxRows}. A first request that alone
 *       exceeds {@code maxRows} (an instance's learned safe limit) runs alone.
 *   <li>The batch runs now when it cannot grow: it holds {@code maxRows} rows, or the next request
 *       of its shape does not fit.
 *   <li>Else, when a prefix of the batch holds exactly a preferred batch size, the largest such
 *       prefix runs now and the rest waits.
 *   <li>Else the batch runs once the oldest queued request has waited {@code max_queue_delay_us}.
 *   <li>Else: wait until that moment or the nearest deadline, whichever is first.
 *   <li>Requests whose deadline is at or before now are taken out first and returned as expired.
 * </ul>
 *
 * <p>Priorities age as {@link PriorityAging} says, in steps of {@code max(10 x max_queue_delay, 100 ms)}.
 */
final class FixedBatchPolicy implements BatchPolicy {
    private final boolean batching;
    private final long delayNanos;
    private final int[] preferred;
    private final PriorityAging aging;

    FixedBatchPolicy(ModelConfig config) {
        DynamicBatching b = config.dynamicBatching();
        this.batching = b != null && config.batched();
        this.delayNanos = b == null ? 0 : Math.multiplyExact(b.maxQueueDelayMicros(), 1000L);
        this.preferred = b == null ? new int[0] : b.preferredBatchSizes().stream().mapToInt(Integer::intValue).toArray();
        this.aging = new PriorityAging(delayNanos);
    }

    /** How long a request waits to improve its effective level by one. */
    long agingNanos() {
        return aging.stepNanos();
    }

    @Override
    public Decision decide(RequestQueue queue, long now, int instance, int maxRows) {
        return decide(queue, now, maxRows, false);
    }

    @Override
    public Decision drain(RequestQueue queue, long now, int maxRows) {
        return decide(queue, now, maxRows, true);
    }

    private Decision decide(RequestQueue queue, long now, int maxRows, boolean flush) {
        BatchCandidate.requireRows(maxRows);
        List<PendingRequest> expired = queue.removeExpired(now);
        if (queue.isEmpty()) {
            return new Decision.Idle(expired);
        }
        BatchCandidate batch = BatchCandidate.form(queue, aging, now, maxRows, batching, this::isPreferred);
        if (batch.full() || flush) {
            return batch.run(queue, expired);
        }
        if (batch.preferredPrefix() > 0) {
            return batch.keepFirst(batch.preferredPrefix()).run(queue, expired);
        }
        long dueAt = queue.oldestEnqueuedNanos() + delayNanos;
        if (dueAt <= now) {
            return batch.run(queue, expired);
        }
        long wakeAt = Math.min(dueAt, queue.nearestDeadlineNanos());
        return new Decision.Wait(wakeAt - now, expired);
    }

    private boolean isPreferred(int rows) {
        for (int p : preferred) {
            if (p == rows) {
                return true;
            }
        }
        return false;
    }
}
