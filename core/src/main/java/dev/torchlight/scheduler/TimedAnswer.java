package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A request's answer that also tells how long the request waited in the queue and how long the
 * engine run it took part in computed, for access logs. Both are written by the instance thread
 * before the answer completes, so whoever sees it complete sees them; they stay 0 for a request
 * that failed or never ran.
 */
public final class TimedAnswer extends CompletableFuture<List<Tensor>> {
    private long queueNanos;
    private long computeNanos;

    void ran(long queueNanos, long computeNanos) {
        this.queueNanos = queueNanos;
        this.computeNanos = computeNanos;
    }

    /** Time from being queued to its engine run's start; read after completion. */
    public long queueNanos() {
        return queueNanos;
    }

    /** Duration of the engine run that computed it; read after completion. */
    public long computeNanos() {
        return computeNanos;
    }
}
