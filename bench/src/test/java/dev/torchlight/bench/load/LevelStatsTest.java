package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.torchlight.bench.result.LevelResult;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LevelStatsTest {

    @Test
    void onlyMeasuredRequestsCountAndItemsAreSuccessesTimesBatch() {
        LevelStats stats = new LevelStats();
        stats.success(50_000_000, false);   // a warm-up request
        stats.error("connect");             // a warm-up connect failure
        stats.behindSchedule(false);
        assertThat(stats.phaseErrors()).isEqualTo(1);

        stats.beginMeasure(1_000_000_000L);
        assertThat(stats.phaseErrors()).isZero();
        for (int i = 1; i <= 100; i++) {
            stats.success(i * 1_000_000L, true); // 1..100 ms
        }
        stats.error("http_503", true);
        stats.error("http_503", true);
        stats.error("connect");
        stats.behindSchedule(true);
        stats.success(7, false);            // sent in the warm-up, ended in the window: not measured
        stats.finish(2_500_000_000L);
        stats.error("connect");             // after the end: no request of the window
        stats.error("timeout", true);       // sent in the window, ended after it: counted
        stats.drained(3_000_000_000L);      // the window lasted 2 s, until its last request ended

        assertThat(stats.measured()).isTrue();
        LevelResult r = stats.result(8, null, 4);
        assertThat(r.concurrency()).isEqualTo(8);
        assertThat(r.rate()).isNull();
        assertThat(r.batchSize()).isEqualTo(4);
        assertThat(r.requests()).isEqualTo(104);
        assertThat(r.errors()).isEqualTo(4);
        assertThat(r.errorsByKind()).isEqualTo(Map.of("http_503", 2L, "connect", 1L, "timeout", 1L));
        assertThat(r.throughputRps()).isEqualTo(50.0);
        assertThat(r.itemsPerS()).isEqualTo(200.0);
        assertThat(r.p50Ms()).isCloseTo(50, within(0.1));
        assertThat(r.p99Ms()).isCloseTo(99, within(0.1));
        assertThat(r.maxMs()).isCloseTo(100, within(0.1));
        assertThat(r.behindSchedule()).isEqualTo(1);
    }

    @Test
    void openLoopSendsBelongToTheWindowByTheirIntendedTime() {
        LevelStats stats = new LevelStats();
        assertThat(stats.measures(5)).isFalse();
        stats.beginMeasure(1_000);
        assertThat(stats.measures(999)).isFalse();
        assertThat(stats.measures(1_000)).isTrue();
        stats.finish(2_000);
        assertThat(stats.measures(2_500)).isTrue(); // due before the stop, sent after it
    }

    @Test
    void aLevelThatNeverReachedItsMeasuredWindowHasNoResult() {
        LevelStats stats = new LevelStats();
        stats.success(1000, false);
        stats.finish(5);
        assertThat(stats.measured()).isFalse();
        assertThat(stats.running()).isFalse();
    }
}
