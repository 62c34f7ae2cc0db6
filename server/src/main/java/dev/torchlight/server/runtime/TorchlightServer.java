package dev.torchlight.server.runtime;

import dev.torchlight.config.ConfigException;
import dev.torchlight.embedded.OpenedResources;
import dev.torchlight.embedded.Torchlight;
import dev.torchlight.embedded.TorchlightBuilder;
import dev.torchlight.config.ManagementConfig;
import dev.torchlight.config.ModelControl;
import dev.torchlight.config.SecurityConfig;
import dev.torchlight.config.ServerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
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
import dev.torchlight.server.transport.ByteBudget;
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
 * The composition root: opens the models of its config through the embedded runtime
 * ({@link Torchlight}: repository, model lifecycle, handlers, change detection), then adds what
 * makes it a server on top: the listeners (inference, and management on its own address),
 * authentication and metrics. Tests build it the same way the CLI does.
 */
public final class TorchlightServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TorchlightServer.class);

    private final Torchlight runtime;
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

    private TorchlightServer(Torchlight runtime, HttpServer http, InetSocketAddress httpAddress,
            HttpServer management, InetSocketAddress managementAddress, InetSocketAddress grpcAddress, ApiKeys keys,
            Path keyFile, GracefulShutdown shutdown, MetricsEndpoint metrics, AccessLog accessLog) {
        this.runtime = runtime;
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
        OpenedResources opened = new OpenedResources();
        try {
            Torchlight runtime = runtime(config, engine).open();
            opened.add(runtime);
            ModelManager models = runtime.manager();

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
            InferenceLayer inferenceLayer = new InferenceLayer(models.routes(), runtime.handlers());
            HttpRoutes inference = HttpServer.inferenceRoutes(inferenceLayer);
            List<ServerInterceptor> grpcChecks = List.of();
            if (keys != null && security.inferenceToken()) {
                BearerToken inferenceKey = new BearerToken(keys.inference(), "inference");
                inference = new TokenProtectedRoutes(inferenceKey, inference, TokenProtectedRoutes.PROBES);
                grpcChecks = List.of(new GrpcTokenCheck(inferenceKey));
            }
            ManagementRouter managementRouter = new ManagementRouter(models, runtime.repository(),
                    new ModelRegistrar(config.modelRepository(), security.allowedUrls(), runtime.archives()),
                    mc.modelControl());
            opened.add(managementRouter);
            HttpRoutes managementRoutes = keys == null ? managementRouter
                    : new TokenProtectedRoutes(new BearerToken(keys.management(), "management"), managementRouter, Set.of());

            AccessLog accessLog = config.accessLog() == null ? AccessLog.OFF : FileAccessLog.open(config.accessLog());
            opened.add(accessLog);
            // HTTP and gRPC inference share one in-flight budget: --max-inflight-bytes is then what inference
            // clients can make the server hold, whatever protocol they speak. Management keeps its own, so
            // that a flood of inference requests cannot lock operators out.
            ByteBudget inflight = new ByteBudget(config.maxInflightBytes());
            HttpServer http = new HttpServer("http",
                    HttpSettings.of(config.host(), config.httpPort(), config), inference, ssl,
                    accessLog, inflight);
            opened.add(http);
            InetSocketAddress address = http.start();
            HttpServer management = new HttpServer("management",
                    HttpSettings.of(mc.host(), mc.port(), config), managementRoutes, ssl);
            opened.add(management);
            InetSocketAddress managementAddress = management.start();
            SslContext grpcSsl = security.tls() ? grpcTls(security) : null;
            GrpcServer grpc = new GrpcServer(GrpcSettings.of(config.host(), config.grpcPort(), config),
                    inferenceLayer, grpcSsl, grpcChecks, inflight);
            opened.add(grpc);
            InetSocketAddress grpcAddress = grpc.start();
            MetricsEndpoint metrics = config.metricsEnabled() ? startMetrics(config, models.routes(), http, grpc, engine, startNanos) : null;
            if (metrics != null) {
                opened.add(metrics);
            }

            String scheme = ssl != null ? "https" : "http";
            LOG.info("torchlight serving {} model(s) from {} on {}://{}:{} (management on {}://{}:{}, model control {})",
                    runtime.loadOutcomes().size(), runtime.repository().root().toAbsolutePath().normalize(), scheme,
                    address.getHostString(), address.getPort(), scheme, managementAddress.getHostString(), managementAddress.getPort(),
                    mc.modelControl().name().toLowerCase(java.util.Locale.ROOT));
            LOG.info("gRPC (KServe v2) on {}:{}{}", grpcAddress.getHostString(), grpcAddress.getPort(),
                    grpcSsl != null ? " (TLS)" : "");
            if (metrics != null) {
                LOG.info("metrics on http://{}:{}{}", metrics.address().getHostString(), metrics.address().getPort(),
                        MetricsEndpoint.PATH);
            }
            GracefulShutdown shutdown = new GracefulShutdown(runtime, List.of(http, grpc, management), managementRouter,
                    mc.shutdownGrace());
            return new TorchlightServer(runtime, http, address, management, managementAddress, grpcAddress, keys,
                    keyFile, shutdown, metrics, accessLog);
        } catch (RuntimeException e) {
            throw opened.closeAfter(e);
        }
    }

    /**
     * The embedded runtime as this config asks for it: its models (or one model's folder), handler
     * settings, change detection under {@code --model-control poll}; histograms only when a metrics
     * listener reads them (they cost a few adders per request).
     */
    static TorchlightBuilder runtime(ServerConfig config, Engine engine) {
        ManagementConfig mc = config.management();
        TorchlightBuilder builder = Torchlight.builder(config.modelRepository())
                .models(config.models())
                .engine(engine)
                .handlers(config.handlers())
                .histograms(config.metricsEnabled())
                .pollInterval(mc.modelControl() == ModelControl.POLL ? mc.pollInterval() : null);
        return config.modelName() != null ? builder.singleModel(config.modelName()) : builder;
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
                "grpc", grpc::transportErrors), http::inflightBodyBytes, grpc::inflightRequestBytes, grpc::slowCalls));
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
        return runtime.routes();
    }

    /** The model lifecycle, for components that load and unload models. */
    public ModelManager manager() {
        return runtime.manager();
    }

    /** The embedded runtime the server is built on. */
    public Torchlight runtime() {
        return runtime;
    }

    /**
     * Stops gracefully within the shutdown grace: readiness turns false, the listeners stop accepting
     * connections, every request already accepted is answered, then the models are released.
     */
    @Override
    public void close() {
        shutdown.run();
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
