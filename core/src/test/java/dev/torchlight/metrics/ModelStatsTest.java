package dev.torchlight.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.metrics.ModelStats.BatchStat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ModelStatsTest {

    @Test
    void newStatsAreEmpty() {
        // Without histograms a new version's snapshot is exactly the empty one.
        ModelStats.Snapshot s = new ModelStats(8, false).snapshot();

        assertThat(s).isEqualTo(ModelStats.Snapshot.EMPTY);
        assertThat(s.batches()).isEmpty();
    }

    @Test
    void emptySnapshotHasNoBatchesAndTheShortConstructorAddsNone() {
        assertThat(ModelStats.Snapshot.EMPTY.batches()).isEmpty();
        assertThat(new ModelStats.Snapshot(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11).batches()).isEmpty();
    }

    @Test
    void requestTotals() {
        ModelStats stats = new ModelStats(4);
        stats.recordSuccess(100);
        stats.recordSuccess(50);
        stats.recordFailure(7);
        stats.recordQueue(30);

        ModelStats.Snapshot s = stats.snapshot();

        assertThat(s.successCount()).isEqualTo(2);
        assertThat(s.successNs()).isEqualTo(150);
        assertThat(s.failCount()).isEqualTo(1);
        assertThat(s.failNs()).isEqualTo(7);
        assertThat(s.queueCount()).isEqualTo(1);
        assertThat(s.queueNs()).isEqualTo(30);
        assertThat(s.executionCount()).isZero();
        assertThat(s.lastInferenceMillis()).isZero();
    }

    @Test
    void executionsAreCountedInTotalAndPerBatchSizeInAscendingOrder() {
        ModelStats stats = new ModelStats(8);
        long before = System.currentTimeMillis();
        stats.recordExecution(8, 800);
        stats.recordExecution(1, 100);
        stats.recordExecution(8, 900);
        stats.recordExecution(3, 300);

        ModelStats.Snapshot s = stats.snapshot();

        assertThat(s.computeCount()).isEqualTo(4);
        assertThat(s.executionCount()).isEqualTo(4);
        assertThat(s.computeNs()).isEqualTo(2100);
        assertThat(s.inferenceCount()).as("rows").isEqualTo(20);
        assertThat(s.lastInferenceMillis()).isBetween(before, System.currentTimeMillis());
        assertThat(s.batches()).containsExactly(
                new BatchStat(1, 1, 100), new BatchStat(3, 1, 300), new BatchStat(8, 2, 1700));
    }

    @Test
    void recordBatchAloneTouchesOnlyTheBatchSizeStatistics() {
        ModelStats stats = new ModelStats(4);
        stats.recordBatch(2, 20);
        stats.recordBatch(2, 30);

        ModelStats.Snapshot s = stats.snapshot();

        assertThat(s.batches()).containsExactly(new BatchStat(2, 2, 50));
        assertThat(s.executionCount()).isZero();
        assertThat(s.computeCount()).isZero();
    }

    @Test
    void sizesBeyondTheTableAreStillCountedInOrder() {
        ModelStats stats = new ModelStats(4);
        stats.recordBatch(4, 1);
        stats.recordBatch(5, 2);
        stats.recordBatch(1000, 3);
        stats.recordBatch(0, 4);
        stats.recordBatch(1000, 5);

        assertThat(stats.snapshot().batches()).containsExactly(new BatchStat(0, 1, 4), new BatchStat(4, 1, 1),
                new BatchStat(5, 1, 2), new BatchStat(1000, 2, 8));
    }

    @Test
    void anUnbatchedModelStillCountsSizeOne() {
        ModelStats stats = new ModelStats(0);
        stats.recordExecution(1, 10);

        assertThat(stats.snapshot().batches()).containsExactly(new BatchStat(1, 1, 10));
    }

    @Test
    void defaultTableCoversTheDefaultMaximum() {
        ModelStats stats = new ModelStats();
        stats.recordBatch(ModelStats.DEFAULT_MAX_BATCH_SIZE, 1);

        assertThat(stats.snapshot().batches()).containsExactly(new BatchStat(ModelStats.DEFAULT_MAX_BATCH_SIZE, 1, 1));
    }

    @Test
    void negativeMaximumIsRefused() {
        assertThatThrownBy(() -> new ModelStats(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void snapshotsAreImmutableCopies() {
        ModelStats stats = new ModelStats(4);
        stats.recordExecution(2, 5);
        ModelStats.Snapshot first = stats.snapshot();
        stats.recordExecution(2, 5);

        assertThat(first.batches()).containsExactly(new BatchStat(2, 1, 5));
        assertThat(stats.snapshot().batches()).containsExactly(new BatchStat(2, 2, 10));
        assertThatThrownBy(() -> first.batches().add(new BatchStat(1, 1, 1)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void concurrentFirstRunsOfOneSizeLoseNoCounts() throws InterruptedException {
        ModelStats stats = new ModelStats(16);
        int threads = 8;
        int perThread = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    stats.recordExecution(1 + i % 16, 1);
                }
            });
            running.add(thread);
        }
        start.countDown();
        for (Thread thread : running) {
            thread.join();
        }

        ModelStats.Snapshot s = stats.snapshot();
        assertThat(s.batches()).hasSize(16);
        assertThat(s.batches().stream().mapToLong(BatchStat::count).sum()).isEqualTo((long) threads * perThread);
        assertThat(s.batches()).allSatisfy(b -> assertThat(b.count()).isEqualTo(threads * perThread / 16));
        assertThat(s.executionCount()).isEqualTo((long) threads * perThread);
    }
}
