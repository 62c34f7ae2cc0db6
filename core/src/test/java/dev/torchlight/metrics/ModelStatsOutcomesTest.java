package dev.torchlight.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** Outcomes, in-flight requests and histograms: what the metrics read from {@link ModelStats}. */
class ModelStatsOutcomesTest {

    @Test
    void outcomesCountSuccessesFailuresAndRefusalsApart() {
        ModelStats stats = new ModelStats(4);
        stats.recordSuccess(1_000_000);
        stats.recordSuccess(3_000_000);
        stats.recordFailure(Outcome.TIMED_OUT, 2_000_000);
        stats.recordRefusal(Outcome.OVERLOADED);
        stats.recordRefusal(Outcome.INVALID_INPUT);
        stats.recordRefusal(Outcome.INVALID_INPUT);

        ModelStats.Snapshot s = stats.snapshot();
        assertThat(s.outcomes()).containsEntry(Outcome.SUCCESS, 2L).containsEntry(Outcome.TIMED_OUT, 1L)
                .containsEntry(Outcome.OVERLOADED, 1L).containsEntry(Outcome.INVALID_INPUT, 2L)
                .containsEntry(Outcome.INTERNAL, 0L).hasSize(Outcome.values().length);
        // Refusals are not v2 failures and are not in the latency histogram.
        assertThat(s.failCount()).isEqualTo(1);
        assertThat(s.requestLatency().count()).isEqualTo(s.successCount() + s.failCount());
        assertThat(s.requestLatency().sum()).isEqualTo(s.successNs() + s.failNs());
    }

    @Test
    void inFlightRisesAndFalls() {
        ModelStats stats = new ModelStats(4);
        stats.requestStarted();
        stats.requestStarted();
        assertThat(stats.snapshot().inFlight()).isEqualTo(2);
        stats.recordSuccess(5);
        stats.requestFinished();
        assertThat(stats.snapshot().inFlight()).isEqualTo(1);
    }

    @Test
    void queueComputeAndBatchSizeHistograms() {
        ModelStats stats = new ModelStats(8);
        stats.recordQueue(50_000); // 50 µs: first bucket (<= 100 µs)
        stats.recordQueue(700_000); // 0.7 ms: the 1 ms bucket
        stats.recordExecution(3, 2_000_000); // 2 ms, 3 rows
        stats.recordExecution(8, 60_000_000); // 60 ms, 8 rows

        ModelStats.Snapshot s = stats.snapshot();
        assertThat(s.queueLatency().counts()[0]).isEqualTo(1);
        assertThat(s.queueLatency().counts()[3]).isEqualTo(1);
        assertThat(s.queueLatency().count()).isEqualTo(s.queueCount());
        assertThat(s.queueLatency().sum()).isEqualTo(s.queueNs());
        assertThat(s.computeLatency().count()).isEqualTo(s.executionCount());
        assertThat(s.computeLatency().sum()).isEqualTo(s.computeNs());
        assertThat(s.batchSizes().bounds()).containsExactly(1, 2, 4, 8);
        assertThat(s.batchSizes().counts()).containsExactly(0, 0, 1, 1, 0);
        assertThat(s.batchSizes().sum()).isEqualTo(s.inferenceCount());
    }

    @Test
    void withoutHistogramsOnlyTotalsAreKept() {
        ModelStats stats = new ModelStats(8, false);
        stats.recordSuccess(10);
        stats.recordExecution(2, 10);
        ModelStats.Snapshot s = stats.snapshot();
        assertThat(s.requestLatency()).isNull();
        assertThat(s.batchSizes()).isNull();
        assertThat(s.outcomes()).containsEntry(Outcome.SUCCESS, 1L);
    }

    @Test
    void outcomeOfEachServingExceptionUnwrappingCompletion() {
        assertThat(Outcome.of(new ServingException.InvalidInput("x"))).isEqualTo(Outcome.INVALID_INPUT);
        assertThat(Outcome.of(new ServingException.NotReady("x"))).isEqualTo(Outcome.NOT_READY);
        assertThat(Outcome.of(new ServingException.Overloaded("x"))).isEqualTo(Outcome.OVERLOADED);
        assertThat(Outcome.of(new CompletionException(new ServingException.TimedOut("x"))))
                .isEqualTo(Outcome.TIMED_OUT);
        assertThat(Outcome.of(new ServingException.ResourceExhausted("x"))).isEqualTo(Outcome.RESOURCE_EXHAUSTED);
        assertThat(Outcome.of(new IllegalStateException("bug"))).isEqualTo(Outcome.INTERNAL);
        assertThat(Outcome.TIMED_OUT.label()).isEqualTo("timed_out");
    }
}
