package dev.torchlight.scheduler;

import dev.torchlight.config.DynamicBatching;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batching that meets a p99 latency target by itself ({@code dynamic_batching.latency_target_ms}):
 * it learns what the engine costs per batch size on each instance ({@link BatchCostModel}), how
 * requests arrive ({@link ArrivalMonitor}) and the p99 requests actually see ({@link LatencyWindow}),
 * and decides every wait from them.
 *
 * <h2>Deciding, for an idle instance</h2>
 *
 * The candidate batch is formed as the fixed policy forms it (dispatch order, one shape, whole
 * requests up to the instance's row limit). Then, with {@code T} the effective target, {@code w} how
 * long the oldest queued request has waited and {@code cost(b)} the instance's learned cost:
 * <ol>
 *   <li>Batch size: at most the largest prefix one run can take within the configured target,
 *       {@code cost(b) <= target} (at least one request); a candidate cut so runs now.
 *   <li>A full candidate runs now.
 *   <li>Waiting for company pays only when company comes: not when most arrivals find the version
 *       idle (a closed loop of one client, a light load: latency stays that of no batching), and not
 *       once the queue holds as many rows as arrive during one run's fixed cost (waiting longer would
 *       idle the instance for less than it saves; the throughput-optimal rule for a line-shaped cost).
 *   <li>Otherwise it waits, but not past: the end of the current burst of arrivals (no arrival for
 *       several typical gaps), the latest start that still meets {@code T} for the oldest request,
 *       {@code max_queue_delay_us} (an upper bound; the target by default), and the nearest deadline.
 * </ol>
 * {@code T} (which bounds waits only) is the configured target while the observed p99 stays under
 * it; each time the p99 over the last {@link LatencyWindow#SIZE} requests exceeds it, {@code T}
 * tightens by 20% (down to a tenth), and it relaxes back by 5% of the target per refresh once the p99
 * is under 90% of it. Priorities age
 * as {@link PriorityAging} says, in steps of {@code max(10 x target, 100 ms)}.
 */
final class LatencyTargetPolicy implements BatchPolicy {
    /** Below this share of arrivals finding the version busy, no request waits for company. */
    static final double MIN_BUSY_SHARE = 0.3;
    /** How much of the target the policy may steer by at the tightest. */
    static final double MIN_GAIN = 0.1;
    /** The shortest epoch of the {@link WaitStyleTrial}: 100 ms (or ten targets). */
    static final long EPOCH_NANOS = 100_000_000L;
    /** Weight of a new observation in the chosen wait's and batch size's moving averages. */
    private static final double AVERAGE = 1.0 / 64;

    private final long targetNanos;
    private final long maxDelayNanos;
    private final PriorityAging aging;
    private final List<BatchCostModel> costs;
    private final ArrivalMonitor arrivals = new ArrivalMonitor();
    private final LatencyWindow latencies = new LatencyWindow();
    private final WaitStyleTrial trial;
    /** Requests queued or running: raised at each arrival, lowered as runs end and requests expire. */
    private final AtomicInteger inSystem = new AtomicInteger();
    private volatile double gain = 1;
    // Guarded by the scheduler's lock, as decisions are.
    private double waitAverage;
    private double rowsAverage;

    LatencyTargetPolicy(DynamicBatching batching, int instances) {
        if (!batching.hasLatencyTarget() || instances < 1) {
            throw new IllegalArgumentException("needs a latency target and at least one instance");
        }
        this.targetNanos = Math.multiplyExact(batching.latencyTargetMicros(), 1000L);
        this.maxDelayNanos = Math.multiplyExact(batching.maxQueueDelayMicros(), 1000L);
        this.aging = new PriorityAging(targetNanos);
        this.trial = new WaitStyleTrial(Math.max(EPOCH_NANOS, 10 * targetNanos));
        List<BatchCostModel> models = new ArrayList<>(instances);
        for (int i = 0; i < instances; i++) {
            models.add(new BatchCostModel(i));
        }
        this.costs = List.copyOf(models);
    }

    @Override
    public void arrived(long now, int inSystem) {
        // The scheduler's count is exact when it is 0 and may run high otherwise (a batch whose answers
        // went out is still marked running for a moment); the policy's own count is exact unless a
        // request left unseen (a scheduler failing what is queued), which the next idle arrival resets.
        int before = inSystem == 0 ? 0 : Math.max(0, this.inSystem.get());
        this.inSystem.set(before + 1);
        arrivals.arrived(now, before, trial.current() != WaitStyleTrial.Style.PATIENT);
    }

    @Override
    public Decision decide(RequestQueue queue, long now, int instance, int maxRows) {
        BatchCandidate.requireRows(maxRows);
        List<PendingRequest> expired = queue.removeExpired(now);
        if (queue.isEmpty()) {
            return new Decision.Idle(expired);
        }
        inSystem.addAndGet(-expired.size());
        BatchCandidate batch = BatchCandidate.form(queue, aging, now, maxRows, true, rows -> false);
        BatchCostModel.Estimate cost = costs.get(instance).estimate();
        long oldest = queue.oldestEnqueuedNanos();
        double target = effectiveTargetNanos();
        int affordable = affordable(batch, cost, targetNanos);
        if (affordable < batch.size() || batch.full()) {
            return run(queue, batch.keepFirst(affordable), expired, now, oldest);
        }
        double waitUntil;
        if (trial.style(now) == WaitStyleTrial.Style.PATIENT) {
            // Everyone is in once the population is: nobody else is coming.
            waitUntil = returnsComing() ? later(burstOver(), arrivals.lastCompletionNanos() + arrivals.returnOverNanos())
                    : Double.NaN;
        } else {
            waitUntil = companyComing(batch.rows(), cost) ? burstOver() : Double.NaN;
        }
        if (Double.isNaN(waitUntil)) {
            return run(queue, batch, expired, now, oldest);
        }
        double latestStart = oldest + target - cost.predictNanos(Math.min(maxRows, 2 * batch.rows()));
        double wakeAt = Math.min(Math.min(waitUntil, latestStart),
                Math.min((double) oldest + maxDelayNanos, (double) queue.nearestDeadlineNanos()));
        if (!(wakeAt > now)) {
            return run(queue, batch, expired, now, oldest);
        }
        return new Decision.Wait(Math.max(1, (long) Math.ceil(wakeAt - now)), expired);
    }

    @Override
    public Decision drain(RequestQueue queue, long now, int maxRows) {
        BatchCandidate.requireRows(maxRows);
        List<PendingRequest> expired = queue.removeExpired(now);
        inSystem.addAndGet(-expired.size());
        if (queue.isEmpty()) {
            return new Decision.Idle(expired);
        }
        return BatchCandidate.form(queue, aging, now, maxRows, true, rows -> false).run(queue, expired);
    }

    @Override
    public void batchRan(int instance, List<PendingRequest> batch, long computeNanos, long endNanos) {
        int rows = 0;
        boolean refreshed = false;
        for (PendingRequest r : batch) {
            rows += r.rows();
            refreshed |= latencies.add(endNanos - r.enqueuedNanos());
        }
        inSystem.addAndGet(-batch.size());
        arrivals.completed(endNanos);
        trial.ran(batch, endNanos);
        costs.get(instance).observe(rows, computeNanos);
        if (refreshed) {
            steer(latencies.p99());
        }
    }

    @Override
    public void batchFailed(int instance, List<PendingRequest> batch) {
        inSystem.addAndGet(-batch.size());
    }

    @Override
    public BatchingState state() {
        List<BatchingState.BatchCost> fits = costs.stream().map(BatchCostModel::fit).toList();
        return new BatchingState("latency_target", trial.winner().name().toLowerCase(java.util.Locale.ROOT), targetNanos, Math.round(effectiveTargetNanos()), latencies.p99(),
                waitAverage, rowsAverage, 0, fits);
    }

    /** Requests queued or running, as the policy counts them. */
    int requestsInSystem() {
        return inSystem.get();
    }

    /** Most requests in the version at once, recently: a closed loop's clients. */
    double population() {
        return arrivals.population();
    }

    /** Tightens the steering target while the p99 exceeds the target, relaxes it once well under. */
    private void steer(long p99) {
        double g = gain;
        if (p99 > targetNanos) {
            g = Math.max(MIN_GAIN, g * 0.8);
        } else if (p99 < 0.9 * targetNanos) {
            g = Math.min(1, g + 0.05);
        }
        gain = g;
    }

    private double effectiveTargetNanos() {
        return gain * targetNanos;
    }

    /**
     * Whether more rows are worth waiting for: arrivals often find the version busy, and fewer rows are
     * queued than arrive during one run's fixed cost. Unknown costs or gaps: no.
     */
    private boolean companyComing(int rows, BatchCostModel.Estimate cost) {
        double gap = arrivals.gapMeanNanos();
        if (arrivals.busyShare() < MIN_BUSY_SHARE || Double.isNaN(gap) || !cost.known()) {
            return false;
        }
        return rows * gap < cost.fit().fixedNanos();
    }

    /** The later of two moments, either of which may be unknown (NaN). */
    private static double later(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
    }

    /** When the current burst of arrivals counts as over; NaN before any burst was seen. */
    private double burstOver() {
        return arrivals.lastArrivalNanos() + arrivals.burstOverNanos();
    }

    /**
     * Whether requests are out at clients who will send again: arrivals often find the version busy and
     * fewer requests are in it than usually are.
     */
    private boolean returnsComing() {
        return arrivals.busyShare() >= MIN_BUSY_SHARE && inSystem.get() + 0.5 < arrivals.population()
                && !Double.isNaN(arrivals.returnOverNanos());
    }

    /**
     * How many of the candidate's requests one run can take within {@code budgetNanos}; at least one.
     * The budget is the configured target, not what the oldest request has left of it: cutting a batch
     * for a request that is late already makes the ones left behind later still, and under overload
     * shrinks batches until throughput collapses.
     */
    private static int affordable(BatchCandidate batch, BatchCostModel.Estimate cost, double budgetNanos) {
        return cost.known() ? batch.prefixWithin(cost::predictNanos, budgetNanos) : batch.size();
    }

    private Decision.Run run(RequestQueue queue, BatchCandidate batch, List<PendingRequest> expired, long now,
            long oldest) {
        waitAverage += AVERAGE * ((now - oldest) - waitAverage);
        // The first run sets the average (a batch has at least one row, so 0 means none yet): from 0, a
        // model served one request at a time showed batches of "0.99" for hundreds of runs.
        rowsAverage = rowsAverage == 0 ? batch.rows() : rowsAverage + AVERAGE * (batch.rows() - rowsAverage);
        return batch.run(queue, expired);
    }
}
