package dev.torchlight.scheduler;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.ModelConfig;
import java.util.Locale;

/**
 * Turns a request's own priority and timeout, and the model's defaults, into its queue level and
 * deadline; words the refusals a full queue or a bad priority earn.
 */
final class Admission {
    private final String model;
    private final int levels;
    private final int defaultLevel;
    private final long defaultTimeoutNanos;
    private final int maxQueueSize;

    Admission(ModelConfig config) {
        DynamicBatching b = config.dynamicBatching();
        this.model = config.name();
        this.levels = b == null ? 1 : b.levels();
        this.defaultLevel = b == null ? 1 : b.defaultLevel();
        this.defaultTimeoutNanos = b == null ? 0 : saturatedMultiply(b.defaultTimeoutMs(), 1_000_000L);
        this.maxQueueSize = b == null ? 0 : b.maxQueueSize();
    }

    /** Priority levels, 1..levels. */
    int levels() {
        return levels;
    }

    /** Most requests queued; 0 means no limit. */
    int maxQueueSize() {
        return maxQueueSize;
    }

    /**
     * The queue level of a request.
     *
     * @param priority the request's priority, 0 for the model's default
     * @throws ServingException.InvalidInput for a level the model does not have
     */
    int level(int priority) {
        if (priority == 0) {
            return defaultLevel;
        }
        if (priority < 1 || priority > levels) {
            throw new ServingException.InvalidInput("priority " + priority + " is outside 1.." + levels
                    + " (priority_levels of model '" + model + "'; 1 is the highest, 0 picks the default "
                    + defaultLevel + ")");
        }
        return priority;
    }

    /**
     * When a request that arrived at {@code arrivalNanos} must have started running.
     *
     * @param timeoutMicros the request's own timeout; 0 takes the model's {@code default_timeout_ms}
     * @return the deadline, or {@link PendingRequest#NO_DEADLINE}
     */
    long deadline(long arrivalNanos, long timeoutMicros) {
        long timeoutNanos = timeoutMicros > 0 ? saturatedMultiply(timeoutMicros, 1000L) : defaultTimeoutNanos;
        if (timeoutNanos <= 0) {
            return PendingRequest.NO_DEADLINE;
        }
        long deadline = arrivalNanos + timeoutNanos;
        // A timeout too long to represent is no deadline at all.
        return deadline < arrivalNanos || deadline == PendingRequest.NO_DEADLINE ? PendingRequest.NO_DEADLINE : deadline;
    }

    /** The refusal for a request that finds the queue full. */
    ServingException.Overloaded queueFull(int queued) {
        return new ServingException.Overloaded("model '" + model + "' queue is full (" + queued
                + " requests); retry later");
    }

    /** The failure of a request whose deadline passed in the queue. */
    static ServingException.TimedOut timedOut(PendingRequest r, long now) {
        return new ServingException.TimedOut("request waited " + millis(now - r.enqueuedNanos())
                + " ms in the queue, past its timeout of " + millis(r.deadlineNanos() - r.enqueuedNanos()) + " ms");
    }

    /** Milliseconds with up to three decimals, trailing zeros dropped: 12, 0.5, 1.234. */
    static String millis(long nanos) {
        long micros = Math.max(0, nanos) / 1000;
        long whole = micros / 1000;
        long frac = micros % 1000;
        if (frac == 0) {
            return Long.toString(whole);
        }
        String digits = String.format(Locale.ROOT, "%03d", frac).replaceAll("0+$", "");
        return whole + "." + digits;
    }

    private static long saturatedMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }
}
