package dev.torchlight.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.function.ToIntFunction;

/**
 * The requests of one model version that wait for a batch: a FIFO per priority level, plus a heap
 * of deadlines so the nearest one is known without scanning. Not thread-safe; the scheduler guards
 * it with its lock.
 *
 * <p>Every operation a decision needs is cheap: adding and removing any request is O(1) (intrusive
 * linked lists), the oldest request is the oldest of the level heads, and the nearest deadline is
 * the heap's top. Requests that left the queue stay in the heap until they reach its top or the heap
 * is compacted (when it holds more than twice the live requests).
 */
final class RequestQueue {
    private static final Comparator<PendingRequest> BY_DEADLINE = Comparator
            .comparingLong(PendingRequest::deadlineNanos)
            .thenComparingLong(r -> r.sequence);

    private final PendingRequest[] heads;
    private final PendingRequest[] tails;
    private final int capacity;
    private final PriorityQueue<PendingRequest> deadlines = new PriorityQueue<>(BY_DEADLINE);
    private int size;
    private long nextSequence;

    /**
     * @param levels priority levels, 1..levels
     * @param capacity most requests held; 0 means no limit
     */
    RequestQueue(int levels, int capacity) {
        if (levels < 1 || capacity < 0) {
            throw new IllegalArgumentException("levels must be >= 1 and capacity >= 0, got " + levels + ", " + capacity);
        }
        this.heads = new PendingRequest[levels];
        this.tails = new PendingRequest[levels];
        this.capacity = capacity;
    }

    int levels() {
        return heads.length;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Appends {@code r} to its level's FIFO; false (and nothing added) when the queue is full. */
    boolean add(PendingRequest r) {
        if (r.level() > heads.length) {
            throw new IllegalArgumentException("level " + r.level() + " is outside 1.." + heads.length);
        }
        if (r.queued) {
            throw new IllegalStateException("request is already queued");
        }
        if (capacity > 0 && size >= capacity) {
            return false;
        }
        int level = r.level() - 1;
        r.sequence = nextSequence++;
        r.prev = tails[level];
        r.next = null;
        if (tails[level] == null) {
            heads[level] = r;
        } else {
            tails[level].next = r;
        }
        tails[level] = r;
        r.queued = true;
        size++;
        if (r.hasDeadline()) {
            deadlines.add(r);
        }
        return true;
    }

    /** Takes {@code r} out of the queue; it must be queued. */
    void remove(PendingRequest r) {
        if (!r.queued) {
            throw new IllegalStateException("request is not queued");
        }
        int level = r.level() - 1;
        if (r.prev == null) {
            heads[level] = r.next;
        } else {
            r.prev.next = r.next;
        }
        if (r.next == null) {
            tails[level] = r.prev;
        } else {
            r.next.prev = r.prev;
        }
        r.prev = null;
        r.next = null;
        r.queued = false;
        size--;
        if (deadlines.size() > 2 * size + 64) {
            deadlines.removeIf(p -> !p.queued);
        }
    }

    /** Removes and returns, nearest deadline first, the requests whose deadline is at or before {@code now}. */
    List<PendingRequest> removeExpired(long now) {
        List<PendingRequest> expired = List.of();
        while (true) {
            PendingRequest top = liveDeadlineTop();
            if (top == null || top.deadlineNanos() > now) {
                return expired;
            }
            if (expired.isEmpty()) {
                expired = new ArrayList<>();
            }
            remove(top);
            expired.add(top);
        }
    }

    /** The nearest deadline of a queued request, or {@link PendingRequest#NO_DEADLINE}. */
    long nearestDeadlineNanos() {
        PendingRequest top = liveDeadlineTop();
        return top == null ? PendingRequest.NO_DEADLINE : top.deadlineNanos();
    }

    private PendingRequest liveDeadlineTop() {
        PendingRequest top = deadlines.peek();
        while (top != null && !top.queued) {
            deadlines.poll();
            top = deadlines.peek();
        }
        return top;
    }

    /** When the longest-waiting queued request arrived; {@link Long#MAX_VALUE} when empty. */
    long oldestEnqueuedNanos() {
        long oldest = Long.MAX_VALUE;
        for (PendingRequest head : heads) {
            // Each level is FIFO, so its head is its oldest request.
            if (head != null && head.enqueuedNanos() < oldest) {
                oldest = head.enqueuedNanos();
            }
        }
        return oldest;
    }

    /** Removes and returns every queued request, in arrival order within each level, highest level first. */
    List<PendingRequest> removeAll() {
        List<PendingRequest> all = new ArrayList<>(size);
        for (PendingRequest head : heads) {
            for (PendingRequest r = head; r != null; r = r.next) {
                all.add(r);
            }
        }
        all.forEach(this::remove);
        deadlines.clear();
        return all;
    }

    /**
     * The queued requests in dispatch order: ascending {@code effectiveLevel}, then arrival. Each
     * level's FIFO is already in that order (an older request's effective level is never worse than
     * a younger one's of the same level), so this is a merge of the level lists. The queue must not
     * change while the iterator is in use.
     */
    Iterator<PendingRequest> inOrder(ToIntFunction<PendingRequest> effectiveLevel) {
        if (heads.length == 1) {
            return new Iterator<>() {
                private PendingRequest cursor = heads[0];

                @Override
                public boolean hasNext() {
                    return cursor != null;
                }

                @Override
                public PendingRequest next() {
                    if (cursor == null) {
                        throw new NoSuchElementException();
                    }
                    PendingRequest r = cursor;
                    cursor = r.next;
                    return r;
                }
            };
        }
        PendingRequest[] cursors = heads.clone();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                for (PendingRequest c : cursors) {
                    if (c != null) {
                        return true;
                    }
                }
                return false;
            }

            @Override
            public PendingRequest next() {
                int best = -1;
                int bestLevel = Integer.MAX_VALUE;
                for (int i = 0; i < cursors.length; i++) {
                    PendingRequest c = cursors[i];
                    if (c == null) {
                        continue;
                    }
                    int level = effectiveLevel.applyAsInt(c);
                    if (best < 0 || level < bestLevel || (level == bestLevel && earlier(c, cursors[best]))) {
                        best = i;
                        bestLevel = level;
                    }
                }
                if (best < 0) {
                    throw new NoSuchElementException();
                }
                PendingRequest r = cursors[best];
                cursors[best] = r.next;
                return r;
            }
        };
    }

    private static boolean earlier(PendingRequest a, PendingRequest b) {
        return a.enqueuedNanos() != b.enqueuedNanos()
                ? a.enqueuedNanos() < b.enqueuedNanos() : a.sequence < b.sequence;
    }
}
