package dev.torchlight.scheduler;

import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.ModelConfig;
import java.util.List;

/**
 * Decides which queued requests of one model version run together, and when. The scheduler asks it
 * whenever something changed (a request arrived, an instance became idle, the wake-up time it named
 * came), for one idle instance at a time and under the scheduler's lock, so decisions never overlap.
 * A policy reads no clock (it is given the reading) and starts no thread, so a test drives it with
 * plain numbers.
 *
 * <p>Which policy a model gets is chosen in {@link #forConfig} alone; a new policy is a new class
 * and a line there.
 */
interface BatchPolicy {

    /**
     * The policy for {@code config}: with a {@code latency_target_ms}, {@link LatencyTargetPolicy} or
     * {@link AimdBatchPolicy}; else {@link FixedBatchPolicy} (maximum delay, preferred sizes).
     *
     * @param instances how many instances the scheduler runs (indices 0 to instances - 1)
     */
    static BatchPolicy forConfig(ModelConfig config, int instances) {
        DynamicBatching b = config.dynamicBatching();
        if (b == null || !config.batched() || !b.hasLatencyTarget()) {
            return new FixedBatchPolicy(config);
        }
        return switch (b.latencyPolicy()) {
            case LEARNED -> new LatencyTargetPolicy(b, instances);
            case AIMD -> new AimdBatchPolicy(b, config.maxBatchSize());
        };
    }

    /**
     * Decides for {@code queue} at {@code now}: run a batch now, wait, or nothing to do. Requests
     * whose deadline is at or before {@code now}, and the batch to run, are taken out of the queue
     * and handed over in the decision. A policy that throws must not have taken anything out: the
     * scheduler fails whatever is still queued.
     *
     * @param now a reading of the scheduler's clock
     * @param instance the idle instance that would run the batch (0-based)
     * @param maxRows most rows that instance takes (at least 1)
     */
    Decision decide(RequestQueue queue, long now, int instance, int maxRows);

    /**
     * As {@link #decide}, but never waits: while anything is queued, a batch runs now. Used while
     * shutting down, to run what is queued without waiting for fuller batches.
     */
    Decision drain(RequestQueue queue, long now, int maxRows);

    /**
     * A request arrived at {@code now}, before it was queued. Under the scheduler's lock.
     *
     * @param inSystem requests the version had then, queued or in running batches
     */
    default void arrived(long now, int inSystem) {}

    /**
     * An engine run of {@code batch} on {@code instance} succeeded: the engine took {@code computeNanos}
     * and its answers go out at {@code endNanos}, what a policy that learns the engine's cost per
     * batch size and the latency requests see needs. Called on the instance's thread after every
     * successful run (each part too, when a batch that failed is retried in halves), just
     * before its answers go out (so that a client answered and sending again is never counted twice);
     * outside the scheduler's lock, and possibly from several instances at once. Does nothing by
     * default.
     */
    default void batchRan(int instance, List<PendingRequest> batch, long computeNanos, long endNanos) {}

    /**
     * {@code batch}, taken from the queue for {@code instance} (or a part of it, when a batch that
     * failed is retried in halves), failed (an engine error, out of memory alone, a device fault), just
     * before its requests are failed. As {@link #batchRan}, outside the
     * lock. Does nothing by default.
     */
    default void batchFailed(int instance, List<PendingRequest> batch) {}

    /** What the policy has chosen and learned, for statistics and metrics; under the scheduler's lock. */
    default BatchingState state() {
        return BatchingState.fixed();
    }
}
