package dev.torchlight.scheduler;

/**
 * Priority levels with anti-starvation, shared by every policy. Level 1 is the highest. Dispatch
 * order is ascending <em>effective</em> level, then arrival; a request's effective level improves by
 * one for every aging step it has waited (never better than 1). So a request of level L that has
 * waited {@code (L - 1)} steps competes with new level-1 requests and, being older, goes before them:
 * nothing waits forever, and within one step priorities hold strictly.
 */
final class PriorityAging {
    /** The smallest aging step: 100 ms. */
    static final long MIN_AGING_NANOS = 100_000_000L;

    private final long stepNanos;

    /** Aging in steps of {@code max(10 x longestWaitNanos, 100 ms)}, the longest wait being the policy's. */
    PriorityAging(long longestWaitNanos) {
        this.stepNanos = Math.max(MIN_AGING_NANOS, Math.multiplyExact(longestWaitNanos, 10L));
    }

    /** How long a request waits to improve its effective level by one. */
    long stepNanos() {
        return stepNanos;
    }

    /** {@code r}'s level after aging, at {@code now}. */
    int effectiveLevel(PendingRequest r, long now) {
        long steps = Math.max(0, now - r.enqueuedNanos()) / stepNanos;
        return (int) Math.max(1, r.level() - Math.min(steps, r.level()));
    }
}
