package dev.torchlight.server.runtime;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.handler.HandlerFactory;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.LoadOptions;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.RepositoryPoller;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.repository.archive.ArchiveStore;
import dev.torchlight.scheduler.NanoClock;
import dev.torchlight.server.access.AccessLog;
import dev.torchlight.server.access.FileAccessLog;
import dev.torchlight.server.auth.ApiKeys;
import dev.torchlight.server.auth.BearerToken;
import dev.torchlight.server.auth.TokenProtectedRoutes;
import dev.torchlight.server.grpc.GrpcServer;
import dev.torchlight.server.grpc.GrpcSettings;
import dev.torchlight.server.grpc.GrpcTokenCheck;
import dev.torchlight.server.http.HttpRoutes;
import dev.torchlight.server.http.HttpServer;
import dev.torchlight.server.http.HttpSettings;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.lifecycle.GracefulShutdown;
import dev.torchlight.server.management.ManagementRouter;
import dev.torchlight.server.management.ModelRegistrar;
import dev.torchlight.server.metrics.BatchingMetrics;
import dev.torchlight.server.metrics.MetricsEndpoint;
import dev.torchlight.server.metrics.ModelMetrics;
import dev.torchlight.server.metrics.ServerMetrics;
import dev.torchlight.server.metrics.TransportMetrics;
import dev.torchlight.server.metrics.gpu.AllocatorMetrics;
import dev.torchlight.server.metrics.gpu.GpuMetrics;
import dev.torchlight.server.metrics.gpu.NvmlLibrary;
import dev.torchlight.server.tls.TlsContexts;
import io.grpc.ServerInterceptor;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds the object graph for one server from its config and an engine,
 * loads the models and opens the listeners (inference, and management on its own address). Tests
 * build it the same way the CLI does.
 */
public final class TorchlightServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TorchlightServer.class);

    private final ModelManager models;
    private final HttpServer http;
    private final InetSocketAddress httpAddress;
    private final HttpServer management;
    private final InetSocketAddress managementAddress;
    private final InetSocketAddress grpcAddress;
    private final ApiKeys keys;
    private final Path keyFile;
    private final GracefulShutdown shutdown;
    private final MetricsEndpoint metrics;
    private final AccessLog accessLog;
    private final HandlerStage handlers;

    private TorchlightServer(ModelManager models, HttpServer http, InetSocketAddress httpAddress,
            HttpServer management, InetSocketAddress managementAddress, InetSocketAddress grpcAddress, ApiKeys keys,
            Path keyFile, GracefulShutdown shutdown, MetricsEndpoint metrics, AccessLog accessLog, HandlerStage handlers) {
        this.models = models;
        this.http = http;
        this.httpAddress = httpAddress;
        this.management = management;
        this.managementAddress = managementAddress;
        this.grpcAddress = grpcAddress;
        this.keys = keys;
        this.keyFile = keyFile;
        this.shutdown = shutdown;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.handlers = handlers;
    }

    /**
     * Loads the configured models and starts listening.
     *
     * @throws dev.torchlight.config.ConfigException when the repository, the model list or TLS is wrong
     */
    public static TorchlightServer start(ServerConfig config, Engine engine) {
        long startNanos = System.nanoTime();
        ManagementConfig mc = config.management();
        SecurityConfig security = config.security();
        SslContext ssl = security.tls() ? TlsContexts.server(security.tlsCert(), security.tlsKey()) : null;
        ArchiveStore archives = ArchiveStore.temporary();
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(archives);
        try {
            ModelRepository repository = config.modelName() != null
                    ? ModelRepository.singleModel(config.modelRepository(), config.modelName())
                    : new ModelRepository(config.modelRepository(), archives);
            List<ModelSource> sources = repository.scan(config.models());
            // Histograms cost a few adders per request; without a metrics listener nobody reads them.
            ModelManager models = new ModelManager(engine, NanoClock.SYSTEM,
                    LoadOptions.SERVING.withHistograms(config.metricsEnabled()));
            opened.add(models);
            models.loadAll(sources);

            ApiKeys keys = null;
            Path keyFile = null;
            if (security.tokenAuth()) {
                keys = ApiKeys.generate(new SecureRandom());
                keyFile = keys.write(security.keyFile());
                LOG.info("API keys written to {} (readable by this user only); send 'Authorization: Bearer <key>'",
                        keyFile);
            } else {
                LOG.warn("*** TOKEN AUTHENTICATION IS DISABLED (--disable-token-auth): anyone who can reach {}:{} can"
                        + " load, unload and replace models{} ***", mc.host(), mc.port(),
                        security.inferenceToken() ? "; --inference-token is ignored" : "");
            }
            // A model's files (labels, handler jars) are where it was loaded from, in the repository or not.
            HandlerStage handlers = new HandlerStage(name -> models.source(name).directory(),
                    HandlerFactory.standard(config.handlers()), config.preprocessThreads());
            opened.add(handlers);
            handlers.prepare(models.routes().models());
            InferenceLayer inferenceLayer = new InferenceLayer(models.routes(), handlers);
            HttpRoutes inference = HttpServer.inferenceRoutes(inferenceLayer);
            List<ServerInterceptor> grpcChecks = List.of();
            if (keys != null && security.inferenceToken()) {
                BearerToken inferenceKey = new BearerToken(keys.inference(), "inference");
                inference = new TokenProtectedRoutes(inferenceKey, inference, TokenProtectedRoutes.PROBES);
                grpcChecks = List.of(new GrpcTokenCheck(inferenceKey));
            }
            ManagementRouter managementRouter = new ManagementRouter(models, repository,
                    new ModelRegistrar(config.modelRepository(), security.allowedUrls(), archives), mc.modelControl());
            opened.add(managementRouter);
            HttpRoutes managementRoutes = keys == null ? managementRouter
                    : new TokenProtectedRoutes(new BearerToken(keys.management(), "management"), managementRouter, Set.of());

            AccessLog accessLog = config.accessLog() == null ? AccessLog.OFF : FileAccessLog.open(config.accessLog());
            opened.add(accessLog);
            HttpServer http = new HttpServer("http",
                    new HttpSettings(config.host(), config.httpPort(), config.maxRequestSize()), inference, ssl,
                    accessLog);
            opened.add(http);
            InetSocketAddress address = http.start();
            HttpServer management = new HttpServer("management",
                    new HttpSettings(mc.host(), mc.port(), config.maxRequestSize()), managementRoutes, ssl);
            opened.add(management);
            InetSocketAddress managementAddress = management.start();
            SslContext grpcSsl = security.tls() ? grpcTls(security) : null;
            GrpcServer grpc = new GrpcServer(new GrpcSettings(config.host(), config.grpcPort(), config.maxRequestSize()),
                    inferenceLayer, grpcSsl, grpcChecks);
            opened.add(grpc);
            InetSocketAddress grpcAddress = grpc.start();
            MetricsEndpoint metrics = config.metricsEnabled() ? startMetrics(config, models.routes(), http, grpc, engine, startNanos) : null;
            if (metrics != null) {
                opened.add(metrics);
            }
            RepositoryPoller poller = mc.modelControl() == ModelControl.POLL
                    ? RepositoryPoller.start(models, repository, config.models(), mc.pollInterval()) : null;

            String scheme = ssl != null ? "https" : "http";
            LOG.info("torchlight serving {} model(s) from {} on {}://{}:{} (management on {}://{}:{}, model control {})",
                    sources.size(), repository.root().toAbsolutePath().normalize(), scheme, address.getHostString(),
                    address.getPort(), scheme, managementAddress.getHostString(), managementAddress.getPort(),
                    mc.modelControl().name().toLowerCase(java.util.Locale.ROOT));
            LOG.info("gRPC (KServe v2) on {}:{}{}", grpcAddress.getHostString(), grpcAddress.getPort(),
                    grpcSsl != null ? " (TLS)" : "");
            if (metrics != null) {
                LOG.info("metrics on http://{}:{}{}", metrics.address().getHostString(), metrics.address().getPort(),
                        MetricsEndpoint.PATH);
            }
            GracefulShutdown shutdown = new GracefulShutdown(models, List.of(http, grpc, management), poller,
                    managementRouter, archives, mc.shutdownGrace());
            return new TorchlightServer(models, http, address, management, managementAddress, grpcAddress, keys,
                    keyFile, shutdown, metrics, accessLog, handlers);
        } catch (RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** gRPC serves over HTTP/2, which needs its own TLS protocol settings (ALPN). */
    private static SslContext grpcTls(SecurityConfig security) {
        try {
            return GrpcSslContexts.configure(TlsContexts.builder(security.tlsCert(), security.tlsKey())).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("--tls-cert " + security.tlsCert() + " / --tls-key " + security.tlsKey()
                    + ": cannot serve gRPC with them: " + e.getMessage(), e);
        }
    }

    private static MetricsEndpoint startMetrics(ServerConfig config, ModelService models, HttpServer http,
            GrpcServer grpc, Engine engine, long startNanos) {
        List<MultiCollector> collectors = new ArrayList<>();
        collectors.add(new ModelMetrics(models));
        collectors.add(new BatchingMetrics(models));
        collectors.add(new ServerMetrics(System::nanoTime, startNanos, http::openConnections,
                http::acceptedConnections, () -> http.responses().snapshot()));
        collectors.add(new TransportMetrics(http::timedOutConnections, Map.of("http", http::transportErrors,
                "grpc", grpc::transportErrors)));
        GpuMetrics.detect(NvmlLibrary.LIBRARY).ifPresent(collectors::add);
        collectors.add(new AllocatorMetrics(engine));
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

    /** The address the gRPC listener is bound to, with the actual port. */
    public InetSocketAddress grpcAddress() {
        return grpcAddress;
    }

    /** The address the management listener is bound to, with the actual port. */
    public InetSocketAddress managementAddress() {
        return managementAddress;
    }

    /** The generated keys, or null when token authentication is off. */
    public ApiKeys keys() {
        return keys;
    }

    /** Where the keys were written, or null when token authentication is off. */
    public Path keyFile() {
        return keyFile;
    }

    /** What serves now. */
    public ModelService models() {
        return models.routes();
    }

    /** The model lifecycle, for components that load and unload models. */
    public ModelManager manager() {
        return models;
    }

    /**
     * Stops gracefully within the shutdown grace: readiness turns false, the listeners stop accepting
     * connections, every request already accepted is answered, then the models are released.
     */
    @Override
    public void close() {
        shutdown.run();
        // Every accepted request was answered: no pre- or postprocessing is left to run.
        handlers.close();
        // Scrapes and log lines until the last request was answered; then these go too.
        if (metrics != null) {
            metrics.close();
        }
        accessLog.close();
        LOG.info("torchlight stopped");
    }

    /** The HTTP servers, for tests of the listeners themselves. */
    HttpServer[] listeners() {
        return new HttpServer[] {http, management};
    }
}
