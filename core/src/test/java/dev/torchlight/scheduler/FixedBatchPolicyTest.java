package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.batching;
import static dev.torchlight.scheduler.Fixtures.config;
import static dev.torchlight.scheduler.Fixtures.longs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class FixedBatchPolicyTest {
    private static final long MS = 1_000_000L;
    private static final long T0 = 5_000 * MS;
    private static final long NONE = PendingRequest.NO_DEADLINE;

    private FixedBatchPolicy policy;
    private RequestQueue queue;

    private void setUp(ModelConfig config, int levels, int capacity) {
        policy = new FixedBatchPolicy(config);
        queue = new RequestQueue(levels, capacity);
    }

    private void setUp(int maxBatchSize, DynamicBatching batching) {
        setUp(config(maxBatchSize, batching), batching == null ? 1 : batching.levels(), 0);
    }

    /** Queues a request of {@code rows} rows of width 2 at {@code enqueued}, level 1, no deadline. */
    private PendingRequest add(long id, int rows, long enqueued) {
        return add(id, rows, 2, 1, enqueued, NONE);
    }

    private PendingRequest add(long id, int rows, int width, int level, long enqueued, long deadline) {
        PendingRequest r = Fixtures.pending(id, rows, width, level, enqueued, deadline);
        assertThat(queue.add(r)).isTrue();
        return r;
    }

    private static List<Long> ids(List<PendingRequest> requests) {
        return requests.stream().map(r -> longs(r.inputs().get(0))[0]).toList();
    }

    private List<Long> runs(Decision d) {
        assertThat(d).isInstanceOf(Decision.Run.class);
        return ids(((Decision.Run) d).batch());
    }

    private static long waits(Decision d) {
        assertThat(d).isInstanceOf(Decision.Wait.class);
        return ((Decision.Wait) d).delayNanos();
    }

    // --- without dynamic batching

    @Test
    void withoutDynamicBatchingEachRequestRunsAloneAtOnceInArrivalOrder() {
        setUp(8, null);
        add(1, 1, T0);
        add(2, 3, T0 + 1);
        add(3, 1, T0 + 2);

        assertThat(runs(policy.decide(queue, T0 + 2, 0, 8))).containsExactly(1L);
        assertThat(runs(policy.decide(queue, T0 + 2, 0, 8))).containsExactly(2L);
        assertThat(runs(policy.decide(queue, T0 + 2, 0, 8))).containsExactly(3L);
        assertThat(policy.decide(queue, T0 + 2, 0, 8)).isInstanceOf(Decision.Idle.class);
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void aModelWithoutBatchDimensionIsNeverBatched() {
        setUp(0, batching(1_000_000, 2, 4));
        add(1, 1, T0);
        add(2, 1, T0);

        assertThat(runs(policy.decide(queue, T0, 0, 1))).containsExactly(1L);
        assertThat(runs(policy.decide(queue, T0, 0, 1))).containsExactly(2L);
    }

    @Test
    void emptyQueueIsIdle() {
        setUp(8, batching(100));
        assertThat(policy.decide(queue, T0, 0, 8)).isInstanceOf(Decision.Idle.class);
    }

    // --- size rules

    @Test
    void aBatchNeverExceedsMaxRowsAndGoesAsSoonAsItIsFull() {
        setUp(4, batching(1_000_000));
        for (int i = 1; i <= 10; i++) {
            add(i, 1, T0);
        }

        assertThat(runs(policy.decide(queue, T0, 0, 4))).containsExactly(1L, 2L, 3L, 4L);
        assertThat(runs(policy.decide(queue, T0, 0, 4))).containsExactly(5L, 6L, 7L, 8L);
        assertThat(waits(policy.decide(queue, T0, 0, 4))).as("two rows left, delay not passed").isEqualTo(1_000 * MS);
        assertThat(queue.size()).isEqualTo(2);
    }

    @Test
    void maxRowsIsTheInstancesLimitWhenLower() {
        setUp(8, batching(1_000_000));
        for (int i = 1; i <= 5; i++) {
            add(i, 1, T0);
        }
        assertThat(runs(policy.decide(queue, T0, 0, 3))).containsExactly(1L, 2L, 3L);
    }

    @Test
    void requestsWithSeveralRowsArePackedWholeAndTheBatchGoesWhenTheNextDoesNotFit() {
        setUp(8, batching(1_000_000));
        add(1, 3, T0);
        add(2, 3, T0);
        add(3, 3, T0);
        add(4, 1, T0);

        Decision d = policy.decide(queue, T0, 0, 8);
        assertThat(runs(d)).as("3 + 3 rows; the third request would make 9").containsExactly(1L, 2L);
        assertThat(((Decision.Run) d).rows()).isEqualTo(6);
        assertThat(ids(List.of(queue.inOrder(r -> 1).next()))).containsExactly(3L);
    }

    @Test
    void aRequestLargerThanTheInstancesLimitRunsAlone() {
        setUp(8, batching(1_000_000));
        add(1, 6, T0);
        add(2, 1, T0);
        assertThat(runs(policy.decide(queue, T0, 0, 4))).containsExactly(1L);
    }

    @Test
    void requestsWithDifferentNonBatchShapesNeverShareABatch() {
        setUp(8, batching(1_000));
        add(1, 1, 2, 1, T0, NONE);
        add(2, 1, 3, 1, T0, NONE);
        add(3, 1, 2, 1, T0, NONE);
        add(4, 1, 3, 1, T0, NONE);

        long due = T0 + MS;
        assertThat(runs(policy.decide(queue, due, 0, 8))).containsExactly(1L, 3L);
        assertThat(runs(policy.decide(queue, due, 0, 8))).containsExactly(2L, 4L);
    }

    // --- preferred sizes

    @Test
    void theLargestPreferredSizeTheQueueFillsGoesAtOnce() {
        setUp(16, batching(1_000_000, 2, 4, 8));
        add(1, 1, T0);
        assertThat(waits(policy.decide(queue, T0, 0, 16))).as("one row is no preferred size").isPositive();
        for (int i = 2; i <= 5; i++) {
            add(i, 1, T0);
        }

        assertThat(runs(policy.decide(queue, T0, 0, 16))).as("5 rows queued: 4 is the largest preferred size")
                .containsExactly(1L, 2L, 3L, 4L);
        assertThat(waits(policy.decide(queue, T0, 0, 16))).isPositive();
    }

    @Test
    void preferredSizesCountRowsOfWholeRequests() {
        setUp(16, batching(1_000_000, 4));
        add(1, 3, T0);
        add(2, 2, T0);
        assertThat(waits(policy.decide(queue, T0, 0, 16))).as("3 then 5 rows: no prefix holds 4").isPositive();

        setUp(16, batching(1_000_000, 4));
        add(3, 3, T0);
        add(4, 1, T0);
        add(5, 2, T0);
        assertThat(runs(policy.decide(queue, T0, 0, 16))).as("3 then 4 rows").containsExactly(3L, 4L);
    }

    @Test
    void preferredSizesAboveTheInstancesLimitAreNotWaitedFor() {
        setUp(16, batching(1_000_000, 8));
        for (int i = 1; i <= 5; i++) {
            add(i, 1, T0);
        }
        assertThat(runs(policy.decide(queue, T0, 0, 4))).as("the limit 4 makes a full batch").hasSize(4);
    }

    // --- delay and wake-up time

    @Test
    void aPartialBatchGoesWhenTheOldestRequestHasWaitedTheDelay() {
        setUp(8, batching(2_000));
        add(1, 1, T0);
        add(2, 1, T0 + MS);

        assertThat(waits(policy.decide(queue, T0 + MS / 2, 0, 8))).isEqualTo(3 * MS / 2);
        assertThat(waits(policy.decide(queue, T0 + 2 * MS - 1, 0, 8))).isEqualTo(1);
        assertThat(runs(policy.decide(queue, T0 + 2 * MS, 0, 8))).containsExactly(1L, 2L);
    }

    @Test
    void zeroDelaySendsWhateverIsQueued() {
        setUp(8, batching(0));
        add(1, 1, T0);
        add(2, 1, T0);
        assertThat(runs(policy.decide(queue, T0, 0, 8))).containsExactly(1L, 2L);
    }

    @Test
    void theWakeUpTimeIsTheNearestDeadlineWhenThatComesFirst() {
        setUp(8, batching(10_000));
        add(1, 1, T0);
        add(2, 1, 2, 1, T0 + MS, T0 + 4 * MS);

        assertThat(waits(policy.decide(queue, T0 + MS, 0, 8))).isEqualTo(3 * MS);
    }

    @Test
    void theDelayRunsFromTheOldestRequestOfAnyShapeOrLevel() {
        setUp(config(8, batching(4_000, List.of(), 0, 0, 2, 0)), 2, 0);
        add(1, 1, 3, 2, T0, NONE);
        add(2, 1, 2, 1, T0 + 3 * MS, NONE);

        assertThat(waits(policy.decide(queue, T0 + 3 * MS, 0, 8))).as("the level-2 request arrived first")
                .isEqualTo(MS);
        assertThat(runs(policy.decide(queue, T0 + 4 * MS, 0, 8))).as("the level-1 batch goes first").containsExactly(2L);
        assertThat(runs(policy.decide(queue, T0 + 4 * MS, 0, 8))).containsExactly(1L);
    }

    @Test
    void drainSendsAtOnce() {
        setUp(8, batching(1_000_000));
        add(1, 1, T0);
        add(2, 1, T0);
        assertThat(runs(policy.drain(queue, T0, 8))).containsExactly(1L, 2L);
    }

    // --- deadlines

    @Test
    void requestsPastTheirDeadlineAreReturnedAsExpiredAndNeverBatched() {
        setUp(8, batching(1_000));
        PendingRequest late = add(1, 1, 2, 1, T0, T0 + MS);
        add(2, 1, 2, 1, T0, NONE);
        PendingRequest later = add(3, 1, 2, 1, T0, T0 + 2 * MS);

        Decision d = policy.decide(queue, T0 + MS, 0, 8);
        assertThat(ids(d.expired())).containsExactly(1L);
        assertThat(runs(d)).containsExactly(2L, 3L);
        assertThat((Fixtures.FutureAnswer) late.answer()).as("the policy only decides; the scheduler answers")
                .isNotDone();
        assertThat(later.queued).isFalse();
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void expiredRequestsAreReportedEvenWhenNothingRuns() {
        setUp(8, batching(10_000));
        add(1, 1, 2, 1, T0, T0 + MS);
        add(2, 1, 2, 1, T0, T0 + 3 * MS);
        add(3, 1, T0);

        Decision d = policy.decide(queue, T0 + 2 * MS, 0, 8);
        assertThat(ids(d.expired())).containsExactly(1L);
        assertThat(waits(d)).isEqualTo(MS);

        Decision idle = policy.decide(queue, T0 + 3 * MS, 0, 8);
        assertThat(ids(idle.expired())).containsExactly(2L);
    }

    @Test
    void allExpiredLeavesTheQueueIdle() {
        setUp(8, null);
        add(1, 1, 2, 1, T0, T0 + MS);
        Decision d = policy.decide(queue, T0 + MS, 0, 8);
        assertThat(d).isInstanceOf(Decision.Idle.class);
        assertThat(ids(d.expired())).containsExactly(1L);
    }

    @Test
    void theTimeoutMessageSaysHowLongItWaitedAndItsTimeout() {
        PendingRequest r = Fixtures.pending(1, 1, 2, 1, T0, T0 + 1_500_000);
        assertThat(Admission.timedOut(r, T0 + 12 * MS).getMessage())
                .isEqualTo("request waited 12 ms in the queue, past its timeout of 1.5 ms");
    }

    // --- priorities

    @Test
    void higherPriorityIsDequeuedFirst() {
        setUp(config(8, batching(0, List.of(), 0, 0, 3, 0)), 3, 0);
        add(1, 1, 2, 3, T0, NONE);
        add(2, 1, 3, 2, T0 + 1, NONE);
        add(3, 1, 4, 1, T0 + 2, NONE);
        add(4, 1, 4, 3, T0 + 3, NONE);

        long now = T0 + 3;
        assertThat(runs(policy.decide(queue, now, 0, 8))).containsExactly(3L, 4L);
        assertThat(runs(policy.decide(queue, now, 0, 8))).containsExactly(2L);
        assertThat(runs(policy.decide(queue, now, 0, 8))).containsExactly(1L);
    }

    @Test
    void priorityOrderAlsoHoldsForAModelWithoutBatchDimension() {
        setUp(config(0, batching(0, List.of(), 0, 0, 2, 0)), 2, 0);
        add(1, 1, 2, 2, T0, NONE);
        add(2, 1, 2, 1, T0 + 1, NONE);
        assertThat(runs(policy.decide(queue, T0 + 1, 0, 1))).containsExactly(2L);
        assertThat(runs(policy.decide(queue, T0 + 1, 0, 1))).containsExactly(1L);
    }

    @Test
    void theAgingStepIsTenDelaysButAtLeast100Ms() {
        assertThat(new FixedBatchPolicy(config(8, batching(500))).agingNanos()).isEqualTo(100 * MS);
        assertThat(new FixedBatchPolicy(config(8, batching(50_000))).agingNanos()).isEqualTo(500 * MS);
        assertThat(new FixedBatchPolicy(config(8, null)).agingNanos()).isEqualTo(100 * MS);
    }

    @Test
    void aLowPriorityRequestGainsALevelPerAgingStepSoItCannotStarve() {
        setUp(config(8, batching(0, List.of(), 0, 0, 3, 0)), 3, 0);
        long step = policy.agingNanos();
        PendingRequest old = add(1, 1, 2, 3, T0, NONE);

        assertThat(new PriorityAging(0).effectiveLevel(old, T0 + step - 1)).isEqualTo(3);
        assertThat(new PriorityAging(0).effectiveLevel(old, T0 + step)).isEqualTo(2);
        assertThat(new PriorityAging(0).effectiveLevel(old, T0 + 2 * step)).isEqualTo(1);
        assertThat(new PriorityAging(0).effectiveLevel(old, T0 + 50 * step)).isEqualTo(1);

        // One step waited: level 2 now, still behind a fresh level-1 request.
        add(2, 1, 3, 1, T0 + step, NONE);
        assertThat(runs(policy.decide(queue, T0 + step, 0, 8))).containsExactly(2L);
        // Two steps waited: level 1 and older than any new level-1 request, so it goes first.
        add(3, 1, 3, 1, T0 + 2 * step, NONE);
        assertThat(runs(policy.decide(queue, T0 + 2 * step, 0, 8))).containsExactly(1L);
        assertThat(runs(policy.decide(queue, T0 + 2 * step, 0, 8))).containsExactly(3L);
    }

    // --- queue limit

    @Test
    void aFullQueueRefusesTheNextRequest() {
        setUp(config(8, batching(1_000, List.of(), 2, 0, 0, 0)), 1, 2);
        add(1, 1, T0);
        add(2, 1, T0);
        assertThat(queue.add(Fixtures.pending(3, 1, 2, 1, T0, NONE))).isFalse();
        assertThat(queue.size()).isEqualTo(2);

        policy.decide(queue, T0 + MS, 0, 8);
        assertThat(queue.add(Fixtures.pending(4, 1, 2, 1, T0, NONE))).as("room again once a batch left").isTrue();
    }

    @Test
    void theQueueFullRefusalNamesTheModelAndTheLimit() {
        Admission admission = new Admission(config(8, batching(1_000, List.of(), 5, 0, 0, 0)));
        assertThat(admission.maxQueueSize()).isEqualTo(5);
        assertThat(admission.queueFull(5).getMessage()).isEqualTo("model 'm' queue is full (5 requests); retry later");
    }
}
