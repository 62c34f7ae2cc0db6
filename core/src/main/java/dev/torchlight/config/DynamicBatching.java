package dev.torchlight.config;

import java.util.List;
import java.util.Objects;

/**
 * The {@code dynamic_batching} section of a model's config. Absent means no batching: every request
 * runs alone.
 *
 * @param maxQueueDelayMicros how long the oldest queued request may wait for a fuller batch; with a
 *     latency target, the most any wait may last
 * @param preferredBatchSizes batch sizes (rows) to send as soon as the queue holds them, ascending
 * @param maxQueueSize most requests queued; more are refused as overloaded (0 = no limit)
 * @param defaultTimeoutMs a request's deadline when it names none (0 = no deadline)
 * @param priorityLevels number of priority levels, 1 being the highest (0 or 1 = one level)
 * @param defaultPriorityLevel level of requests that name none (0 = the lowest level)
 * @param latencyTargetMicros the p99 latency the batcher keeps requests under, choosing waits and
 *     batch sizes itself (0 = none: the fixed delay and preferred sizes decide)
 * @param latencyPolicy how a latency target is met
 */
public record DynamicBatching(
        long maxQueueDelayMicros,
        List<Integer> preferredBatchSizes,
        int maxQueueSize,
        long defaultTimeoutMs,
        int priorityLevels,
        int defaultPriorityLevel,
        long latencyTargetMicros,
        LatencyPolicy latencyPolicy) {

    /** How a {@code latency_target_ms} is met. */
    public enum LatencyPolicy {
        /**
         * Learns the engine's cost per batch size and the arrival pattern, and decides every wait
         * from them ({@code learned}, the default).
         */
        LEARNED,
        /**
         * Runs what is queued at once, up to a batch-size cap that grows by one while the latency
         * stays under the target and shrinks by 10% when it does not (Clipper's adaptive batching,
         * {@code aimd}).
         */
        AIMD
    }

    public DynamicBatching {
        preferredBatchSizes = List.copyOf(preferredBatchSizes);
        Objects.requireNonNull(latencyPolicy, "latencyPolicy");
    }

    /** Fixed batching: no latency target. */
    public DynamicBatching(long maxQueueDelayMicros, List<Integer> preferredBatchSizes, int maxQueueSize,
            long defaultTimeoutMs, int priorityLevels, int defaultPriorityLevel) {
        this(maxQueueDelayMicros, preferredBatchSizes, maxQueueSize, defaultTimeoutMs, priorityLevels,
                defaultPriorityLevel, 0, LatencyPolicy.LEARNED);
    }

    /** Number of levels, at least 1. */
    public int levels() {
        return Math.max(1, priorityLevels);
    }

    /** The level used for requests without a priority, 1..levels(). */
    public int defaultLevel() {
        return defaultPriorityLevel == 0 ? levels() : defaultPriorityLevel;
    }

    /** Whether a latency target decides the waits and batch sizes. */
    public boolean hasLatencyTarget() {
        return latencyTargetMicros > 0;
    }
}
