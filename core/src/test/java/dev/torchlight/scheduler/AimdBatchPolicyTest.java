package dev.torchlight.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.DynamicBatching;
import java.util.List;
import org.junit.jupiter.api.Test;

class AimdBatchPolicyTest {
    private static final long MS = 1_000_000L;

    private final AimdBatchPolicy policy = new AimdBatchPolicy(new DynamicBatching(1_000, List.of(), 0, 0, 0, 0, 1_000,
            DynamicBatching.LatencyPolicy.AIMD), 64);

    @Test
    void theCapGrowsByOneAfterAFastFullRunAndShrinksByTenPercentAfterASlowOne() {
        assertThat(policy.state().batchCap()).isEqualTo(1);
        for (int rows = 1; rows <= 20; rows++) {
            policy.batchRan(0, LatencyTargetPolicyTest.batchOf(rows, 0), MS / 10, MS / 2);
        }
        assertThat(policy.state().batchCap()).isEqualTo(21);
        policy.batchRan(0, LatencyTargetPolicyTest.batchOf(5, 0), MS / 10, MS / 2);
        assertThat(policy.state().batchCap()).as("a run below the cap says nothing about a larger one").isEqualTo(21);
        policy.batchRan(0, LatencyTargetPolicyTest.batchOf(21, 0), MS / 10, 2 * MS);
        assertThat(policy.state().batchCap()).isEqualTo(18);
    }

    @Test
    void itRunsWhatIsQueuedAtOnceUpToTheCap() {
        RequestQueue queue = new RequestQueue(1, 0);
        for (int i = 0; i < 5; i++) {
            queue.add(Fixtures.pending(i, 1, 1, 1, 0, PendingRequest.NO_DEADLINE));
        }
        for (int rows = 1; rows <= 2; rows++) {
            policy.batchRan(0, LatencyTargetPolicyTest.batchOf(rows, 0), MS / 10, MS / 2);
        }
        Decision d = policy.decide(queue, 0, 0, 64);
        assertThat(((Decision.Run) d).rows()).isEqualTo(3);
        assertThat(policy.state().policy()).isEqualTo("aimd");
    }
}
