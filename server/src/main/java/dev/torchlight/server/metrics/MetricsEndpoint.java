package dev.torchlight.server.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The Prometheus listener: its own port, {@code GET /metrics} in the Prometheus text format (or
 * OpenMetrics when the scraper asks), with the given collectors and the JVM's own metrics (memory,
 * GC, threads, classes, process CPU and start time). Each endpoint has its own registry, so several
 * servers in one JVM (tests) do not share metrics.
 */
public final class MetricsEndpoint implements AutoCloseable {
    /** The path Prometheus scrapes. */
    public static final String PATH = "/metrics";

    private final PrometheusRegistry registry;
    private final HTTPServer server;
    private final InetSocketAddress address;

    private MetricsEndpoint(PrometheusRegistry registry, HTTPServer server, InetSocketAddress address) {
        this.registry = registry;
        this.server = server;
        this.address = address;
    }

    /**
     * Registers {@code collectors} and the JVM metrics and starts listening.
     *
     * @param port TCP port; 0 picks any free port
     * @throws UncheckedIOException when the address cannot be bound
     */
    public static MetricsEndpoint start(String host, int port, List<MultiCollector> collectors) {
        PrometheusRegistry registry = new PrometheusRegistry();
        collectors.forEach(registry::register);
        JvmMetrics.builder().register(registry);
        HTTPServer server;
        try {
            server = HTTPServer.builder().hostname(host).port(port).registry(registry).metricsHandlerPath(PATH)
                    .buildAndStart();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        return new MetricsEndpoint(registry, server, new InetSocketAddress(host, server.getPort()));
    }

    /** The bound address, with the actual port. */
    public InetSocketAddress address() {
        return address;
    }

    /** The registry scraped. */
    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        server.close();
    }
}
