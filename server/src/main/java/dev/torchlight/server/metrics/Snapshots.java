package dev.torchlight.server.metrics;

import dev.torchlight.metrics.BucketHistogram;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

/** Small helpers that turn the core's numbers into Prometheus data points. */
final class Snapshots {
    private Snapshots() {}

    static CounterSnapshot.CounterDataPointSnapshot counter(Labels labels, double value) {
        return CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    static GaugeSnapshot.GaugeDataPointSnapshot gauge(Labels labels, double value) {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    /**
     * A classic histogram from a {@link BucketHistogram} reading.
     *
     * @param scale multiplies bounds and sum into the exposed unit (1e-9 for nanoseconds to seconds)
     */
    static HistogramSnapshot.HistogramDataPointSnapshot histogram(Labels labels, BucketHistogram.Snapshot h,
            double scale) {
        long[] bounds = h.bounds();
        double[] upper = new double[bounds.length + 1];
        for (int i = 0; i < bounds.length; i++) {
            upper[i] = bounds[i] * scale;
        }
        upper[bounds.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .labels(labels)
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, h.counts()))
                .sum(h.sum() * scale)
                .build();
    }
}
