package dev.torchlight.scheduler;

/**
 * What one instance learned from running out of memory: the largest batch (in rows) that succeeded
 * after its first out-of-memory error. Later batches for that instance are capped at it. Written by
 * the instance's thread, read by the scheduler's.
 */
final class SafeBatchLimit {
    private boolean oomSeen;
    private int smallestOom;
    private int largestSafe;

    /** A run of {@code rows} rows ran out of memory. */
    synchronized void outOfMemory(int rows) {
        if (rows <= largestSafe) {
            // Memory is tighter than it was: what passed for safe was not; learn again.
            largestSafe = 0;
        }
        smallestOom = oomSeen ? Math.min(smallestOom, rows) : rows;
        oomSeen = true;
    }

    /** A run of {@code rows} rows succeeded. */
    synchronized void succeeded(int rows) {
        if (oomSeen) {
            largestSafe = Math.max(largestSafe, rows);
        }
    }

    /** The most rows a batch for this instance may hold, given the model's {@code max_batch_size}. */
    synchronized int cap(int maxBatchSize) {
        int max = Math.max(1, maxBatchSize);
        if (!oomSeen) {
            return max;
        }
        if (largestSafe > 0) {
            return Math.min(max, largestSafe);
        }
        // Nothing has succeeded since the OOM yet: stay below the smallest size that failed.
        return Math.max(1, Math.min(max, smallestOom - 1));
    }

    /** The learned limit, or 0 while this instance never ran out of memory. */
    synchronized int safeBatchSize(int maxBatchSize) {
        return oomSeen ? cap(maxBatchSize) : 0;
    }
}
