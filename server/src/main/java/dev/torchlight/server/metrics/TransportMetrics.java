package dev.torchlight.server.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What clients did to the transport, which the log only sums up: connections closed because a
 * client was too slow, and streams or connections clients reset, dropped or garbled.
 */
public final class TransportMetrics implements MultiCollector {
    private final Supplier<Map<String, Long>> httpTimeouts;
    private final Map<String, LongSupplier> errors;
    private final LongSupplier inflightBodyBytes;
    private final LongSupplier inflightGrpcBytes;
    private final LongSupplier slowGrpcCalls;

    /**
     * @param httpTimeouts HTTP connections closed for a slow client, by phase ({@code headers},
     *     {@code body}, {@code idle})
     * @param errors client-caused transport errors since start, by protocol ({@code http}, {@code grpc})
     * @param inflightBodyBytes request body bytes the HTTP inference listener holds now
     * @param inflightGrpcBytes request message bytes the gRPC listener holds now
     * @param slowGrpcCalls gRPC calls cancelled since start because their client was too slow to send a
     *     request message
     */
    public TransportMetrics(Supplier<Map<String, Long>> httpTimeouts, Map<String, LongSupplier> errors,
            LongSupplier inflightBodyBytes, LongSupplier inflightGrpcBytes, LongSupplier slowGrpcCalls) {
        this.httpTimeouts = httpTimeouts;
        this.errors = Map.copyOf(errors);
        this.inflightBodyBytes = inflightBodyBytes;
        this.inflightGrpcBytes = inflightGrpcBytes;
        this.slowGrpcCalls = slowGrpcCalls;
    }

    @Override
    public MetricSnapshots collect() {
        var timeouts = CounterSnapshot.builder().name("torchlight_http_client_timeouts")
                .help("HTTP connections on the inference port closed because the client took too long to send a"
                        + " request's headers or body (answered 408) or sent nothing (idle), by phase.");
        httpTimeouts.get().forEach((phase, count) ->
                timeouts.dataPoint(Snapshots.counter(Labels.of("phase", phase), count)));
        var transport = CounterSnapshot.builder().name("torchlight_transport_errors")
                .help("Connections (HTTP) or streams and connections (gRPC) that clients reset, dropped or sent"
                        + " malformed bytes on, by protocol; logged only as a periodic summary.");
        errors.forEach((protocol, count) ->
                transport.dataPoint(Snapshots.counter(Labels.of("protocol", protocol), count.getAsLong())));
        var bodies = GaugeSnapshot.builder().name("torchlight_http_inflight_body_bytes")
                .help("Request body bytes the HTTP inference listener holds now, read and not yet answered"
                        + " (with gRPC's, bounded by --max-inflight-bytes).")
                .dataPoint(Snapshots.gauge(Labels.EMPTY, inflightBodyBytes.getAsLong()));
        var messages = GaugeSnapshot.builder().name("torchlight_grpc_inflight_request_bytes")
                .help("Request message bytes the gRPC listener holds now, received and not yet answered"
                        + " (with HTTP's, bounded by --max-inflight-bytes).")
                .dataPoint(Snapshots.gauge(Labels.EMPTY, inflightGrpcBytes.getAsLong()));
        var slowCalls = CounterSnapshot.builder().name("torchlight_grpc_client_timeouts")
                .help("gRPC calls cancelled because the client took longer than --http-body-timeout to send a"
                        + " request message (a unary call's from its start, any message's from its first bytes).")
                .dataPoint(Snapshots.counter(Labels.EMPTY, slowGrpcCalls.getAsLong()));
        return MetricSnapshots.of(timeouts.build(), transport.build(), bodies.build(), messages.build(),
                slowCalls.build());
    }
}
