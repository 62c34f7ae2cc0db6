package dev.torchlight.scheduler;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.IntToDoubleFunction;

/**
 * The batch a policy could run now, still in the queue: the first request in dispatch order and the
 * following requests with the same {@link ShapeKey} (others are skipped and wait for a batch of
 * their own), whole, until the next one would exceed the row limit. A first request that alone
 * exceeds the limit (an instance's learned safe limit) is a batch by itself. Policies differ in
 * whether and when they run it, and how much of it.
 */
final class BatchCandidate {
    private final List<PendingRequest> requests;
    private int rows;
    private final boolean full;
    private final int preferredPrefix;

    private BatchCandidate(List<PendingRequest> requests, int rows, boolean full, int preferredPrefix) {
        this.requests = requests;
        this.rows = rows;
        this.full = full;
        this.preferredPrefix = preferredPrefix;
    }

    /**
     * Forms the candidate from {@code queue} (not empty) in the order {@code aging} gives at {@code now}.
     *
     * @param batching false: the first request alone
     * @param preferred which row counts are preferred batch sizes
     */
    static BatchCandidate form(RequestQueue queue, PriorityAging aging, long now, int maxRows, boolean batching,
            IntPredicate preferred) {
        Iterator<PendingRequest> order = queue.inOrder(r -> aging.effectiveLevel(r, now));
        PendingRequest first = order.next();
        List<PendingRequest> batch = new ArrayList<>();
        batch.add(first);
        int rows = first.rows();
        if (!batching || rows >= maxRows) {
            return new BatchCandidate(batch, rows, true, 0);
        }
        boolean full = false;
        int preferredPrefix = preferred.test(rows) ? 1 : 0;
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
            if (preferred.test(rows)) {
                preferredPrefix = batch.size();
            }
            full = rows == maxRows;
        }
        return new BatchCandidate(batch, rows, full, preferredPrefix);
    }

    /** Throws for a row limit below 1; policies check it before they take anything out of the queue. */
    static void requireRows(int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
    }

    /** Rows in the candidate. */
    int rows() {
        return rows;
    }

    /** Requests in the candidate. */
    int size() {
        return requests.size();
    }

    /** Whether it cannot grow: it holds the row limit, the next request of its shape does not fit, or no batching. */
    boolean full() {
        return full;
    }

    /** The longest prefix (in requests) whose rows are a preferred batch size; 0 if none. */
    int preferredPrefix() {
        return preferredPrefix;
    }

    /**
     * The longest prefix (in requests, at least one) whose rows cost at most {@code budget}, for a cost
     * that grows with the rows.
     */
    int prefixWithin(IntToDoubleFunction cost, double budget) {
        int n = 1;
        int rows = requests.getFirst().rows();
        while (n < requests.size()) {
            int more = rows + requests.get(n).rows();
            if (cost.applyAsDouble(more) > budget) {
                break;
            }
            rows = more;
            n++;
        }
        return n;
    }

    /** Keeps the first {@code n} requests (at least one); the rest stay queued. */
    BatchCandidate keepFirst(int n) {
        while (requests.size() > Math.max(1, n)) {
            rows -= requests.removeLast().rows();
        }
        return this;
    }

    /** Takes the candidate out of {@code queue}: the decision to run it now. */
    Decision.Run run(RequestQueue queue, List<PendingRequest> expired) {
        for (PendingRequest r : requests) {
            queue.remove(r);
        }
        return new Decision.Run(requests, expired);
    }
}
