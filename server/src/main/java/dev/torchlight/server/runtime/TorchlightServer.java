package dev.torchlight.server.runtime;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.registry.ModelRegistry;
import dev.torchlight.registry.ModelService;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.NanoClock;
import dev.torchlight.server.access.AccessLog;
import dev.torchlight.server.access.FileAccessLog;
import dev.torchlight.server.http.HttpServer;
import dev.torchlight.server.http.HttpSettings;
import dev.torchlight.server.metrics.MetricsEndpoint;
import dev.torchlight.server.metrics.ModelMetrics;
import dev.torchlight.server.metrics.ServerMetrics;
import dev.torchlight.server.metrics.gpu.GpuMetrics;
import dev.torchlight.server.metrics.gpu.JnaNvml;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds the object graph for one server from its config and an engine,
 * loads the models and opens the listeners. Tests build it the same way the CLI does.
 */
public final class TorchlightServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TorchlightServer.class);

    private final ModelRegistry registry;
    private final HttpServer http;
    private final InetSocketAddress httpAddress;
    private final MetricsEndpoint metrics;
    private final AccessLog accessLog;

    private TorchlightServer(ModelRegistry registry, HttpServer http, InetSocketAddress httpAddress,
            MetricsEndpoint metrics, AccessLog accessLog) {
        this.registry = registry;
        this.http = http;
        this.httpAddress = httpAddress;
        this.metrics = metrics;
        this.accessLog = accessLog;
    }

    /**
     * Loads the configured models and starts listening.
     *
     * @throws dev.torchlight.config.ConfigException when the repository or the model list is wrong
     */
    public static TorchlightServer start(ServerConfig config, Engine engine) {
        long startNanos = System.nanoTime();
        ModelRepository repository = new ModelRepository(config.modelRepository());
        List<ModelSource> sources = repository.scan(config.models());
        // Histograms cost a few adders per request; without a metrics listener nobody reads them.
        ModelRegistry registry = new ModelRegistry(engine, NanoClock.SYSTEM, config.metricsEnabled());
        sources.forEach(registry::load);
        AccessLog accessLog;
        try {
            accessLog = config.accessLog() == null ? AccessLog.OFF : FileAccessLog.open(config.accessLog());
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        HttpServer http = new HttpServer(
                new HttpSettings(config.host(), config.httpPort(), config.maxRequestSize()), registry, accessLog);
        InetSocketAddress address;
        MetricsEndpoint metrics = null;
        try {
            address = http.start();
            if (config.metricsEnabled()) {
                metrics = startMetrics(config, registry, http, startNanos);
            }
        } catch (RuntimeException e) {
            http.close();
            registry.close();
            accessLog.close();
            throw e;
        }
        LOG.info("torchlight serving {} model(s) from {} on http://{}:{}", sources.size(),
                repository.root().toAbsolutePath().normalize(), address.getHostString(), address.getPort());
        if (metrics != null) {
            LOG.info("metrics on http://{}:{}{}", metrics.address().getHostString(), metrics.address().getPort(),
                    MetricsEndpoint.PATH);
        }
        return new TorchlightServer(registry, http, address, metrics, accessLog);
    }

    private static MetricsEndpoint startMetrics(ServerConfig config, ModelRegistry registry, HttpServer http,
            long startNanos) {
        List<MultiCollector> collectors = new ArrayList<>();
        collectors.add(new ModelMetrics(registry));
        collectors.add(new ServerMetrics(System::nanoTime, startNanos, http::openConnections,
                http::acceptedConnections, () -> http.responses().snapshot()));
        GpuMetrics.detect(JnaNvml.LIBRARY).ifPresent(collectors::add);
        return MetricsEndpoint.start(config.host(), config.metricsPort(), collectors);
    }

    /** The address the Prometheus listener is bound to, with the actual port; null when metrics are off. */
    public InetSocketAddress metricsAddress() {
        return metrics == null ? null : metrics.address();
    }

    /** The address the HTTP listener is bound to, with the actual port. */
    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    public ModelService models() {
        return registry;
    }

    /** Stops accepting connections, then releases the models. */
    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
        http.close();
        registry.close();
        accessLog.close();
        LOG.info("torchlight stopped");
    }
}
