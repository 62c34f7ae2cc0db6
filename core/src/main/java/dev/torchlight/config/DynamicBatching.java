package dev.torchlight.config;

import java.util.List;

/**
 * The {@code dynamic_batching} section of a model's config. Absent means no batching: every request
 * runs alone.
 *
 * @param maxQueueDelayMicros how long the oldest queued request may wait for a fuller batch
 * @param preferredBatchSizes batch sizes (rows) to send as soon as the queue holds them, ascending
 * @param maxQueueSize most requests queued; more are refused as overloaded (0 = no limit)
 * @param defaultTimeoutMs a request's deadline when it names none (0 = no deadline)
 * @param priorityLevels number of priority levels, 1 being the highest (0 or 1 = one level)
 * @param defaultPriorityLevel level of requests that name none (0 = the lowest level)
 */
public record DynamicBatching(
        long maxQueueDelayMicros,
        List<Integer> preferredBatchSizes,
        int maxQueueSize,
        long defaultTimeoutMs,
        int priorityLevels,
        int defaultPriorityLevel) {

    public DynamicBatching {
        preferredBatchSizes = List.copyOf(preferredBatchSizes);
    }

    /** Number of levels, at least 1. */
    public int levels() {
        return Math.max(1, priorityLevels);
    }

    /** The level used for requests without a priority, 1..levels(). */
    public int defaultLevel() {
        return defaultPriorityLevel == 0 ? levels() : defaultPriorityLevel;
    }
}
