package dev.torchlight.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * What a model version's batch policy has chosen and learned, at one moment: for the statistics
 * endpoint and metrics. Times are nanoseconds.
 *
 * @param policy {@code fixed}, {@code latency_target} or {@code aimd}
 * @param waitStyle how the latency-target policy waits for company now: {@code eager} (while a burst
 *     of arrivals lasts) or {@code patient} (also for clients that will send again); empty for others
 * @param targetNanos the p99 latency target; 0 without one
 * @param effectiveTargetNanos the target the policy steers by now: below the target while the observed
 *     p99 exceeded it (it tightens itself), the target otherwise; 0 without one
 * @param observedP99Nanos p99 of the recent requests' time in the scheduler (arrival to answer); 0 before any
 * @param waitNanos the waits the policy chose for the oldest request, a moving average; 0 for fixed
 * @param batchRows the batch sizes it ran, a moving average; 0 before any run or for fixed
 * @param batchCap the most rows it lets a batch take now (AIMD's cap); 0 when it sets none
 * @param costs the engine's learned cost per batch size, per instance; empty for fixed
 */
public record BatchingState(String policy, String waitStyle, long targetNanos, long effectiveTargetNanos, long observedP99Nanos,
        double waitNanos, double batchRows, int batchCap, List<BatchCost> costs) {

    /** The state of a policy that learns and chooses nothing. */
    private static final BatchingState FIXED = new BatchingState("fixed", "", 0, 0, 0, 0, 0, 0, List.of());

    public BatchingState {
        costs = List.copyOf(costs);
    }

    /** The fixed policy's state: nothing learned, nothing chosen. */
    public static BatchingState fixed() {
        return FIXED;
    }

    /** The batch sizes learned costs are reported at: 1, 2, 4, ... and {@code maxBatchSize} itself. */
    public static List<Integer> costSizes(int maxBatchSize) {
        List<Integer> sizes = new ArrayList<>();
        for (int rows = 1; rows < maxBatchSize; rows *= 2) {
            sizes.add(rows);
        }
        sizes.add(Math.max(1, maxBatchSize));
        return sizes;
    }

    /** Whether a latency target steers batching. */
    public boolean hasTarget() {
        return targetNanos > 0;
    }

    /** How far the observed p99 is under the target (negative: over it); 0 without a target or observations. */
    public long slackNanos() {
        return hasTarget() && observedP99Nanos > 0 ? targetNanos - observedP99Nanos : 0;
    }

    /**
     * One instance's learned engine cost: a run of {@code b} rows takes about
     * {@code fixedNanos + perRowNanos * b}, fitted to recent runs with older ones weighing less.
     *
     * @param instance the instance (0-based)
     * @param fixedNanos the cost of a run whatever its size
     * @param perRowNanos what each row adds
     * @param runs runs learned from
     */
    public record BatchCost(int instance, double fixedNanos, double perRowNanos, long runs) {
        /** The predicted time of a run of {@code rows} rows. */
        public double predictNanos(int rows) {
            return fixedNanos + perRowNanos * rows;
        }
    }
}
