package dev.torchlight.scheduler;

import java.util.List;

/**
 * What {@link BatchPolicy} decided for a queue at one moment. Every kind also carries the requests
 * whose deadline had passed: they were taken out of the queue and must be failed, never run. The
 * lists are handed over, not copied: the policy made them for this decision and keeps no reference.
 */
sealed interface Decision {

    /** Requests taken out of the queue because their deadline passed. */
    List<PendingRequest> expired();

    /** Run these requests (taken out of the queue, in dispatch order) as one batch now. */
    record Run(List<PendingRequest> batch, List<PendingRequest> expired) implements Decision {
        /** Rows in the batch. */
        int rows() {
            return batch.stream().mapToInt(PendingRequest::rows).sum();
        }
    }

    /** Nothing to run yet; decide again in {@code delayNanos} (> 0) or when something changes. */
    record Wait(long delayNanos, List<PendingRequest> expired) implements Decision {}

    /** The queue is empty; decide again when a request arrives. */
    record Idle(List<PendingRequest> expired) implements Decision {}
}
