package dev.torchlight.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BucketHistogramTest {

    @Test
    void upperBoundsAreInclusiveAndTheLastBucketTakesTheRest() {
        BucketHistogram h = new BucketHistogram(new long[] {10, 20, 40});
        for (long v : new long[] {0, 10, 11, 20, 21, 40, 41, 1_000}) {
            h.observe(v);
        }
        BucketHistogram.Snapshot s = h.snapshot();

        assertThat(s.bounds()).containsExactly(10, 20, 40);
        assertThat(s.counts()).containsExactly(2, 2, 2, 2);
        assertThat(s.count()).isEqualTo(8);
        assertThat(s.sum()).isEqualTo(0 + 10 + 11 + 20 + 21 + 40 + 41 + 1_000);
    }

    @Test
    void boundsMustAscend() {
        assertThatThrownBy(() -> new BucketHistogram(new long[] {1, 1})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BucketHistogram(new long[] {2, 1})).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void batchSizeBoundsArePowersOfTwoUpToTheMaximum() {
        assertThat(BucketHistogram.batchSizeBounds(64)).containsExactly(1, 2, 4, 8, 16, 32, 64);
        assertThat(BucketHistogram.batchSizeBounds(24)).containsExactly(1, 2, 4, 8, 16, 24);
        assertThat(BucketHistogram.batchSizeBounds(1)).containsExactly(1);
        assertThat(BucketHistogram.batchSizeBounds(0)).containsExactly(1);
    }

    @Test
    void latencyBoundsRunFrom100MicrosecondsTo10SecondsWith50Milliseconds() {
        long[] b = BucketHistogram.LATENCY_BOUNDS_NANOS;
        assertThat(b[0]).isEqualTo(100_000);
        assertThat(b[b.length - 1]).isEqualTo(10_000_000_000L);
        assertThat(b).contains(50_000_000L);
    }
}
