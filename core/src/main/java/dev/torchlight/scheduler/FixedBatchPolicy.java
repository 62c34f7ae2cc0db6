package dev.torchlight.scheduler;

import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.ModelConfig;
import java.util.ArrayList;
import java.util.Iterator;
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
 * <h2>Priorities and anti-starvation</h2>
 *
 * Level 1 is the highest. Dispatch order is ascending <em>effective</em> level, then arrival. A
 * request's effective level is its level improved by one for every {@link #agingNanos()} it has
 * waited (never better than 1), where the aging step is {@code max(10 x max_queue_delay, 100 ms)}.
 * So a request of level L that has waited {@code (L - 1) x step} competes with new level-1 requests
 * and, being older, goes before them: nothing waits forever, and within one step's time priorities
 * hold strictly.
 */
final class FixedBatchPolicy implements BatchPolicy {
    /** The smallest aging step: 100 ms. */
    static final long MIN_AGING_NANOS = 100_000_000L;

    private final boolean batching;
    private final long delayNanos;
    private final int[] preferred;
    private final long agingNanos;

    FixedBatchPolicy(ModelConfig config) {
        DynamicBatching b = config.dynamicBatching();
        this.batching = b != null && config.batched();
        this.delayNanos = b == null ? 0 : Math.multiplyExact(b.maxQueueDelayMicros(), 1000L);
        this.preferred = b == null ? new int[0] : b.preferredBatchSizes().stream().mapToInt(Integer::intValue).toArray();
        this.agingNanos = Math.max(MIN_AGING_NANOS, Math.multiplyExact(delayNanos, 10L));
    }

    /** How long a request waits to improve its effective level by one. */
    long agingNanos() {
        return agingNanos;
    }

    /** {@code r}'s level after aging, at {@code now}. */
    int effectiveLevel(PendingRequest r, long now) {
        long steps = Math.max(0, now - r.enqueuedNanos()) / agingNanos;
        return (int) Math.max(1, r.level() - Math.min(steps, r.level()));
    }

    @Override
    public Decision decide(RequestQueue queue, long now, int maxRows) {
        return decide(queue, now, maxRows, false);
    }

    @Override
    public Decision drain(RequestQueue queue, long now, int maxRows) {
        return decide(queue, now, maxRows, true);
    }

    private Decision decide(RequestQueue queue, long now, int maxRows, boolean flush) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        List<PendingRequest> expired = queue.removeExpired(now);
        if (queue.isEmpty()) {
            return new Decision.Idle(expired);
        }
        Iterator<PendingRequest> order = queue.inOrder(r -> effectiveLevel(r, now));
        PendingRequest first = order.next();
        if (!batching || first.rows() >= maxRows) {
            // It runs alone, now: without batching every request does, and this one fills a batch.
            return run(queue, List.of(first), expired);
        }
        List<PendingRequest> batch = new ArrayList<>();
        batch.add(first);
        int rows = first.rows();
        boolean full = false;
        int preferredPrefix = isPreferred(rows) ? 1 : 0;
        while (!full && order.hasNext()) {
            PendingRequest r = order.next();
            if (!r.shape().equals(first.shape())) {
                continue;
            }
            if (rows + r.rows() > maxRows) {
                // Packing whole requests in order: the batch cannot grow past this one.
                full = true;
                break;
            }
            batch.add(r);
            rows += r.rows();
            if (isPreferred(rows)) {
                preferredPrefix = batch.size();
            }
            full = rows == maxRows;
        }
        if (full || flush) {
            return run(queue, batch, expired);
        }
        if (preferredPrefix > 0) {
            while (batch.size() > preferredPrefix) {
                batch.removeLast();
            }
            return run(queue, batch, expired);
        }
        long dueAt = queue.oldestEnqueuedNanos() + delayNanos;
        if (dueAt <= now) {
            return run(queue, batch, expired);
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

    private static Decision run(RequestQueue queue, List<PendingRequest> batch, List<PendingRequest> expired) {
        for (PendingRequest r : batch) {
            queue.remove(r);
        }
        return new Decision.Run(batch, expired);
    }
}
