package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.DynamicBatching;
import dev.torchlight.scheduler.BatchingSimulation.EngineProfile;
import dev.torchlight.scheduler.BatchingSimulation.Result;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The latency-target policy against synthetic engines and arrival patterns, on a fake clock: closed
 * loops of 1, 8 and 64 clients, steady, bursty and ramping open loads, drift, two unequal instances.
 * It is judged as the issue asks: p99 under the target wherever some fixed setting meets it, throughput
 * within 5% of the best fixed setting of a sweep, and at one client the latency of no batching.
 */
class LatencyTargetPolicyTest {
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final int MAX_BATCH = 64;
    private static final long TARGET_US = 10_000;
    /** The risk MLP on one CPU thread: 180 us a run plus 20 us a row, ±10%. */
    private static final double FIXED_US = 180;
    private static final double ROW_US = 20;
    private static final long ROUND_TRIP = 60 * US;
    private static final long[] DELAYS_US = {0, 100, 500, 1_000, 5_000};

    private static DynamicBatching target(long targetMicros) {
        return new DynamicBatching(targetMicros, List.of(), 0, 0, 0, 0, targetMicros,
                DynamicBatching.LatencyPolicy.LEARNED);
    }

    private static LatencyTargetPolicy learned(long targetMicros, int instances) {
        return new LatencyTargetPolicy(target(targetMicros), instances);
    }

    private static EngineProfile risk(long seed) {
        return BatchingSimulation.line(FIXED_US, ROW_US, 0.1, seed);
    }

    private static Result simulate(BatchPolicy policy, int clients, long seconds) {
        return new BatchingSimulation(policy, risk(7), 1, MAX_BATCH)
                .run(BatchingSimulation.closedLoop(clients, ROUND_TRIP, 11), SECOND / 4, seconds * SECOND);
    }

    /** Every fixed setting of the sweep: each delay, without and with preferred sizes. */
    private static List<FixedBatchPolicy> sweep() {
        List<FixedBatchPolicy> fixed = new ArrayList<>();
        for (long delay : DELAYS_US) {
            fixed.add(new FixedBatchPolicy(config(MAX_BATCH, Fixtures.batching(delay))));
            fixed.add(new FixedBatchPolicy(config(MAX_BATCH, Fixtures.batching(delay, 8, 16, 32, 64))));
        }
        return fixed;
    }

    @Test
    void oneClientGetsTheLatencyOfNoBatchingAtAll() {
        LatencyTargetPolicy policy = learned(TARGET_US, 1);
        Result learned = simulate(policy, 1, 1);
        Result unbatched = simulate(new FixedBatchPolicy(config(MAX_BATCH, null)), 1, 1);

        assertThat(learned.p50Nanos()).isEqualTo(unbatched.p50Nanos());
        assertThat(learned.p99Nanos()).isEqualTo(unbatched.p99Nanos());
        assertThat(learned.answered()).isEqualTo(unbatched.answered());
        assertThat(policy.state().waitNanos()).as("no request ever waited for company").isZero();
        assertThat(policy.state().batchRows()).as("every batch one request of one row").isEqualTo(1.0);
    }

    @Test
    void closedLoopsMeetTheTargetWithinFivePercentOfTheBestFixedSetting() {
        for (int clients : new int[] {8, 64}) {
            Result learned = simulate(learned(TARGET_US, 1), clients, 2);
            Result best = null;
            for (FixedBatchPolicy fixed : sweep()) {
                Result r = simulate(fixed, clients, 2);
                if (r.p99Nanos() <= TARGET_US * US && (best == null || r.perSecond() > best.perSecond())) {
                    best = r;
                }
            }
            assertThat(best).as("some fixed setting meets the target at %d clients", clients).isNotNull();
            assertThat(learned.p99Nanos()).as("%d clients: %s", clients, learned).isLessThanOrEqualTo(TARGET_US * US);
            assertThat(learned.perSecond()).as("%d clients: learned %s, best fixed %s", clients, learned, best)
                    .isGreaterThanOrEqualTo(0.95 * best.perSecond());
        }
    }

    @Test
    void steadyBurstyAndRampingOpenLoadsStayUnderTheTarget() {
        long end = 3 * SECOND;
        List<java.util.function.LongToDoubleFunction> loads = List.of(
                t -> 12_000,
                t -> (t / (20 * MS)) % 4 == 0 ? 40_000 : 2_000,
                t -> 1_000 + 30_000.0 * t / end);
        for (var load : loads) {
            LatencyTargetPolicy policy = learned(TARGET_US, 1);
            Result r = new BatchingSimulation(policy, risk(3), 1, MAX_BATCH)
                    .run(BatchingSimulation.openLoop(load, end, 5), SECOND / 4, end + SECOND);
            assertThat(r.p99Nanos()).as("%s", r).isLessThanOrEqualTo(TARGET_US * US);
            assertThat(r.meanRows()).as("a load beyond one row per run must batch: %s", r).isGreaterThan(1.5);
        }
    }

    @Test
    void anOpenLoadThatBatchingCannotHelpKeepsTheLatencyOfNoBatching() {
        // The risk model as measured inside the server on 2 cores: ~100 us a run plus ~100 us a row, ±30%,
        // so a batch saves little; at 1,000/s it is busy a fifth of the time. Waiting for clients who are
        // not coming used to take the p50 to 2.4 ms and the p99 to 7.5 ms here (no batching: 0.22 / 0.39 ms).
        long end = 20 * SECOND;
        for (long seed = 1; seed <= 3; seed++) {
            Result learned = new BatchingSimulation(learned(8_000, 1), BatchingSimulation.line(100, 100, 0.3, seed), 1,
                    MAX_BATCH).run(BatchingSimulation.openLoop(t -> 1_000, end, seed), SECOND, end);
            Result unbatched = new BatchingSimulation(new FixedBatchPolicy(config(MAX_BATCH, null)),
                    BatchingSimulation.line(100, 100, 0.3, seed), 1, MAX_BATCH)
                    .run(BatchingSimulation.openLoop(t -> 1_000, end, seed), SECOND, end);
            assertThat(learned.p50Nanos()).as("seed %d: %s against %s", seed, learned, unbatched)
                    .isLessThanOrEqualTo(unbatched.p50Nanos() + 20 * US);
            assertThat(learned.p99Nanos()).as("seed %d: %s against %s", seed, learned, unbatched)
                    .isLessThanOrEqualTo(unbatched.p99Nanos() + MS);
        }
    }

    @Test
    void aBurstOfArrivalsIsCollectedAndRunsWhenItIsOver() {
        RequestQueue queue = new RequestQueue(1, 0);
        LatencyTargetPolicy policy = learned(TARGET_US, 1);
        // Teach it: runs cost 180 us + 20 us a row, and arrivals come 10 us apart while it is busy.
        for (int rows = 1; rows <= 8; rows++) {
            policy.batchRan(0, batchOf(rows, 0), Math.round((FIXED_US + ROW_US * rows) * US), 0);
        }
        long t = 0;
        for (int i = 0; i < 100; i++) {
            policy.arrived(t, 1);
            t += 10 * US;
        }
        policy.arrived(t, 0);
        queue.add(Fixtures.pending(1, 1, 1, 1, t, PendingRequest.NO_DEADLINE));
        Decision first = policy.decide(queue, t, 0, MAX_BATCH);
        assertThat(first).as("company is coming: wait").isInstanceOf(Decision.Wait.class);
        assertThat(((Decision.Wait) first).delayNanos()).as("about one burst gap, not the target")
                .isBetween(10 * US, 50 * US);

        for (int i = 2; i <= 8; i++) {
            t += 10 * US;
            policy.arrived(t, 1);
            queue.add(Fixtures.pending(i, 1, 1, 1, t, PendingRequest.NO_DEADLINE));
            assertThat(policy.decide(queue, t, 0, MAX_BATCH)).isInstanceOf(Decision.Wait.class);
        }
        Decision.Wait wait = (Decision.Wait) policy.decide(queue, t, 0, MAX_BATCH);
        Decision after = policy.decide(queue, t + wait.delayNanos(), 0, MAX_BATCH);
        assertThat(after).as("no arrival for the burst's timeout: the burst is over").isInstanceOf(Decision.Run.class);
        assertThat(((Decision.Run) after).rows()).isEqualTo(8);
    }

    @Test
    void aRunNeverTakesMoreRowsThanTheTargetAllowsHoweverLateTheQueue() {
        RequestQueue queue = new RequestQueue(1, 0);
        LatencyTargetPolicy policy = learned(1_010, 1);
        for (int rows = 1; rows <= 64; rows *= 2) {
            policy.batchRan(0, batchOf(rows, 0), Math.round((FIXED_US + ROW_US * rows) * US), 0);
        }
        for (int i = 0; i < 64; i++) {
            queue.add(Fixtures.pending(i, 1, 1, 1, 0, PendingRequest.NO_DEADLINE));
        }
        // 180 + 20 b <= 1010 allows 41 rows, whether the oldest request waited nothing or the whole target:
        // a smaller batch would not save it, only make the rest later.
        Decision d = policy.decide(queue, 900 * US, 0, MAX_BATCH);
        assertThat(d).isInstanceOf(Decision.Run.class);
        assertThat(((Decision.Run) d).rows()).isEqualTo(41);
        assertThat(((Decision.Run) policy.decide(queue, 900 * US, 0, MAX_BATCH)).rows()).isEqualTo(23);
    }

    @Test
    void requestsAnsweredAndBackAtOnceAreNotCountedTwice() {
        RequestQueue queue = new RequestQueue(1, 0);
        LatencyTargetPolicy policy = learned(TARGET_US, 1);
        // Eight clients in a closed loop, each back before the scheduler marks its batch finished: the
        // scheduler's count runs high (8 running + the newcomers), the policy's own does not.
        long t = 0;
        for (int round = 0; round < 50; round++) {
            List<PendingRequest> batch = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                policy.arrived(t, i == 0 ? 0 : i + 8);
                PendingRequest r = Fixtures.pending(i, 1, 1, 1, t, PendingRequest.NO_DEADLINE);
                queue.add(r);
                t += 5 * US;
            }
            Decision d = policy.decide(queue, t, 0, MAX_BATCH);
            if (d instanceof Decision.Run run) {
                batch.addAll(run.batch());
            }
            while (!queue.isEmpty()) {
                batch.addAll(((Decision.Run) policy.drain(queue, t, MAX_BATCH)).batch());
            }
            t += 300 * US;
            policy.batchRan(0, batch, 300 * US, t);
        }
        assertThat(policy.state().costs().getFirst().runs()).isPositive();
        for (int i = 0; i < 8; i++) {
            policy.arrived(t, i == 0 ? 0 : i + 8);
        }
        assertThat(policy.requestsInSystem()).isEqualTo(8);
        assertThat(policy.population()).as("eight clients, not sixteen").isBetween(7.5, 8.5);
    }

    @Test
    void theLearnedCostFollowsDriftPerInstance() {
        LatencyTargetPolicy policy = learned(TARGET_US, 2);
        long halfway = 2 * SECOND;
        // Instance 1 is twice as slow as instance 0; both slow down by half at halfway.
        EngineProfile drifting = (instance, rows, now) -> Math.round((FIXED_US + ROW_US * rows) * US
                * (instance == 0 ? 1 : 2) * (now < halfway ? 1 : 1.5));
        new BatchingSimulation(policy, drifting, 2, MAX_BATCH)
                .run(BatchingSimulation.closedLoop(32, ROUND_TRIP, 1), 0, 2 * halfway);

        List<BatchingState.BatchCost> costs = policy.state().costs();
        assertThat(costs).hasSize(2);
        assertThat(costs.get(0).predictNanos(32)).isCloseTo((FIXED_US + ROW_US * 32) * US * 1.5,
                org.assertj.core.data.Percentage.withPercentage(10));
        assertThat(costs.get(1).predictNanos(32)).isCloseTo((FIXED_US + ROW_US * 32) * US * 3,
                org.assertj.core.data.Percentage.withPercentage(10));
    }

    @Test
    void anObservedP99OverTheTargetTightensWhatThePolicySteersBy() {
        LatencyTargetPolicy policy = learned(1_000, 1);
        for (int i = 0; i < 2 * LatencyWindow.SIZE; i++) {
            policy.batchRan(0, batchOf(1, 0), 200 * US, 2 * MS);
        }
        BatchingState state = policy.state();
        assertThat(state.observedP99Nanos()).isEqualTo(2 * MS);
        assertThat(state.slackNanos()).isEqualTo(-MS);
        assertThat(state.effectiveTargetNanos()).isLessThan(MS);

        for (int i = 0; i < 40 * LatencyWindow.SIZE; i++) {
            policy.batchRan(0, batchOf(1, 0), 200 * US, 300 * US);
        }
        assertThat(policy.state().effectiveTargetNanos()).as("relaxed back once well under").isEqualTo(MS);
    }

    @Test
    void itsStateNamesTheTargetAndWhatItChose() {
        LatencyTargetPolicy policy = learned(TARGET_US, 1);
        simulate(policy, 8, 1);
        BatchingState state = policy.state();
        assertThat(state.policy()).isEqualTo("latency_target");
        assertThat(state.targetNanos()).isEqualTo(TARGET_US * US);
        assertThat(state.batchRows()).isGreaterThan(2);
        assertThat(state.waitNanos()).isPositive();
        assertThat(state.observedP99Nanos()).isPositive().isLessThan(TARGET_US * US);
        assertThat(state.slackNanos()).isPositive();
        assertThat(state.waitStyle()).as("a closed loop's clients come back: worth waiting for").isEqualTo("patient");
        assertThat(state.costs().getFirst().predictNanos(8)).as("runs of 8 rows learned")
                .isCloseTo((FIXED_US + 8 * ROW_US) * US, org.assertj.core.data.Percentage.withPercentage(10));
    }

    @Test
    void drainRunsWhatIsQueuedWithoutWaiting() {
        RequestQueue queue = new RequestQueue(1, 0);
        LatencyTargetPolicy policy = learned(TARGET_US, 1);
        queue.add(Fixtures.pending(1, 1, 1, 1, 0, PendingRequest.NO_DEADLINE));
        assertThat(policy.drain(queue, 0, MAX_BATCH)).isInstanceOf(Decision.Run.class);
        assertThat(policy.drain(queue, 0, MAX_BATCH)).isInstanceOf(Decision.Idle.class);
    }

    static List<PendingRequest> batchOf(int rows, long enqueued) {
        List<PendingRequest> batch = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            batch.add(Fixtures.pending(i, 1, 1, 1, enqueued, PendingRequest.NO_DEADLINE));
        }
        return batch;
    }
}
