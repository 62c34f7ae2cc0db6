package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.util.List;

/**
 * One request waiting for, or taking part in, an engine run. Its scheduling facts are fixed when it
 * arrives; the links are the {@link RequestQueue}'s bookkeeping and are only touched under the
 * scheduler's lock.
 */
final class PendingRequest {
    /** The deadline of a request that has none. */
    static final long NO_DEADLINE = Long.MAX_VALUE;

    private final List<Tensor> inputs;
    private final int rows;
    private final ShapeKey shape;
    private final int level;
    private final long enqueuedNanos;
    private final long deadlineNanos;
    private final Answer answer;

    // RequestQueue bookkeeping: a doubly linked list per priority level, so any request leaves the
    // queue in O(1) whether it is at the head, taken from the middle into a batch, or expired.
    PendingRequest prev;
    PendingRequest next;
    boolean queued;
    long sequence;

    /**
     * @param inputs one tensor per declared input, in declared order; kept as it is, not copied (one
     *     allocation fewer per request), so the caller hands it over and does not change it afterwards
     * @param rows rows the request contributes to a batch (its batch dimension, or 1)
     * @param level priority level, 1 being the highest
     * @param deadlineNanos clock reading after which the request must not run, or {@link #NO_DEADLINE}
     * @param answer completed exactly once with the request's own outputs or its error
     */
    PendingRequest(List<Tensor> inputs, int rows, ShapeKey shape, int level, long enqueuedNanos, long deadlineNanos,
            Answer answer) {
        if (rows < 1 || level < 1) {
            throw new IllegalArgumentException("rows and level must be >= 1, got " + rows + " and " + level);
        }
        this.inputs = inputs;
        this.rows = rows;
        this.shape = shape;
        this.level = level;
        this.enqueuedNanos = enqueuedNanos;
        this.deadlineNanos = deadlineNanos;
        this.answer = answer;
    }

    List<Tensor> inputs() {
        return inputs;
    }

    int rows() {
        return rows;
    }

    ShapeKey shape() {
        return shape;
    }

    int level() {
        return level;
    }

    long enqueuedNanos() {
        return enqueuedNanos;
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    boolean hasDeadline() {
        return deadlineNanos != NO_DEADLINE;
    }

    Answer answer() {
        return answer;
    }

    /** Answers with its outputs, having waited from arrival until {@code startNanos}. */
    void succeed(List<Tensor> outputs, long startNanos, long computeNanos) {
        answer.succeed(outputs, startNanos - enqueuedNanos, computeNanos);
    }

    void fail(Throwable error) {
        answer.fail(error);
    }

    @Override
    public String toString() {
        return "PendingRequest[rows=" + rows + ", level=" + level + ", enqueued=" + enqueuedNanos
                + (hasDeadline() ? ", deadline=" + deadlineNanos : "") + "]";
    }
}
