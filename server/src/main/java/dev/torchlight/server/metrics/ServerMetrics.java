package dev.torchlight.server.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Server-wide metrics: uptime, and the inference HTTP listener's connections and responses. */
public final class ServerMetrics implements MultiCollector {
    private final LongSupplier nanoTime;
    private final long startNanos;
    private final LongSupplier openConnections;
    private final LongSupplier acceptedConnections;
    private final Supplier<Map<Integer, Long>> responses;

    /**
     * @param nanoTime a monotonic clock
     * @param startNanos its reading when the server began starting; uptime counts from there
     * @param openConnections HTTP connections open now
     * @param acceptedConnections HTTP connections accepted since start
     * @param responses HTTP responses written since start, by status code
     */
    public ServerMetrics(LongSupplier nanoTime, long startNanos, LongSupplier openConnections,
            LongSupplier acceptedConnections, Supplier<Map<Integer, Long>> responses) {
        this.nanoTime = nanoTime;
        this.startNanos = startNanos;
        this.openConnections = openConnections;
        this.acceptedConnections = acceptedConnections;
        this.responses = responses;
    }

    @Override
    public MetricSnapshots collect() {
        var byCode = CounterSnapshot.builder().name("torchlight_http_responses")
                .help("HTTP responses written on the inference port, by status code.");
        responses.get().forEach((code, count) ->
                byCode.dataPoint(Snapshots.counter(Labels.of("code", Integer.toString(code)), count)));
        return MetricSnapshots.of(
                byCode.build(),
                GaugeSnapshot.builder().name("torchlight_uptime_seconds").unit(Unit.SECONDS)
                        .help("Time since the server started.")
                        .dataPoint(Snapshots.gauge(Labels.EMPTY, Unit.nanosToSeconds(nanoTime.getAsLong() - startNanos)))
                        .build(),
                GaugeSnapshot.builder().name("torchlight_http_connections")
                        .help("HTTP connections open now on the inference port.")
                        .dataPoint(Snapshots.gauge(Labels.EMPTY, openConnections.getAsLong()))
                        .build(),
                CounterSnapshot.builder().name("torchlight_http_connections_accepted")
                        .help("HTTP connections accepted on the inference port since start.")
                        .dataPoint(Snapshots.counter(Labels.EMPTY, acceptedConnections.getAsLong()))
                        .build());
    }
}
