package dev.torchlight.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Server-wide settings, after merging defaults, the config file, the environment and flags.
 *
 * @param host address the HTTP listener binds
 * @param httpPort HTTP port; 0 picks any free port
 * @param modelRepository directory holding one folder per model
 * @param models names of the models to load; empty means every model in the repository
 * @param maxRequestSize largest request body accepted, in bytes (also the largest gRPC message)
 * @param metricsPort port of the Prometheus listener (same host); 0 picks any free port,
 *     {@link #METRICS_OFF} turns metrics off
 * @param accessLog file that gets one line per request, or null for no access log
 * @param management the management listener and the model lifecycle
 * @param security tokens, registration allowlist and TLS
 * @param grpcPort gRPC port; 0 picks any free port
 * @param handlers custom handler permission and preprocessing threads
 * @param modelName when set, {@code modelRepository} is one model's folder (its config.yaml with
 *     version folders, or a bare model.pt/model.pt2 beside it), served under this name (KServe's
 *     {@code /mnt/models} layout); null for a repository of model folders
 * @param clientTimeouts how long HTTP clients may take to send requests or stay idle
 * @param maxInflightBytes most request bytes held at once (at least {@code maxRequestSize}): by the
 *     HTTP and gRPC inference listeners together, and by the management listener apart; more are
 *     refused (HTTP 503, gRPC UNAVAILABLE)
 */
public record ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
        int metricsPort, Path accessLog, ManagementConfig management, SecurityConfig security, int grpcPort,
        HandlerConfig handlers, String modelName, ClientTimeouts clientTimeouts, long maxInflightBytes) {
    /** 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 64L << 20;
    /** The Prometheus port by default, TorchServe's metrics port. */
    public static final int DEFAULT_METRICS_PORT = 8082;
    /** {@link #metricsPort} when metrics are off. */
    public static final int METRICS_OFF = -1;
    /** The access log by default, relative to the working directory. */
    public static final Path DEFAULT_ACCESS_LOG = Path.of("logs", "access.log");
    /** TorchServe's gRPC port. */
    public static final int DEFAULT_GRPC_PORT = 7070;

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelRepository, "modelRepository");
        models = List.copyOf(models);
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            throw new IllegalArgumentException("metricsPort must be -1 (off) or 0 to 65535, got " + metricsPort);
        }
        Objects.requireNonNull(management, "management");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(handlers, "handlers");
        Objects.requireNonNull(clientTimeouts, "clientTimeouts");
        if (maxInflightBytes < maxRequestSize) {
            throw new IllegalArgumentException("maxInflightBytes (" + maxInflightBytes + ") must be at least"
                    + " maxRequestSize (" + maxRequestSize + "), or a request of the largest size could never be read");
        }
        if (modelName != null && !models.isEmpty()) {
            throw new IllegalArgumentException("a single model (modelName " + modelName + ") cannot be combined with"
                    + " a list of models " + models);
        }
    }

    /** With the default client timeouts. */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
            int metricsPort, Path accessLog, ManagementConfig management, SecurityConfig security, int grpcPort,
            HandlerConfig handlers, String modelName) {
        this(host, httpPort, modelRepository, models, maxRequestSize, metricsPort, accessLog, management, security,
                grpcPort, handlers, modelName, ClientTimeouts.DEFAULTS, defaultInflightBytes(maxRequestSize));
    }

    /** A repository of model folders. */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
            int metricsPort, Path accessLog, ManagementConfig management, SecurityConfig security, int grpcPort,
            HandlerConfig handlers) {
        this(host, httpPort, modelRepository, models, maxRequestSize, metricsPort, accessLog, management, security,
                grpcPort, handlers, null);
    }

    /**
     * For servers embedded in tests: no metrics listener, no access log, management and gRPC on any
     * free loopback port, default security.
     */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize) {
        this(host, httpPort, modelRepository, models, maxRequestSize, METRICS_OFF, null, ManagementConfig.ephemeral(),
                SecurityConfig.defaults(), 0, HandlerConfig.defaults());
    }

    /** The same config with other security settings. */
    public ServerConfig withSecurity(SecurityConfig other) {
        return new ServerConfig(host, httpPort, modelRepository, models, maxRequestSize, metricsPort, accessLog,
                management, other, grpcPort, handlers, modelName, clientTimeouts, maxInflightBytes);
    }

    /** The same config with other handler settings. */
    public ServerConfig withHandlers(HandlerConfig other) {
        return new ServerConfig(host, httpPort, modelRepository, models, maxRequestSize, metricsPort, accessLog,
                management, security, grpcPort, other, modelName, clientTimeouts, maxInflightBytes);
    }

    /**
     * Loopback on 8080 (management on 8081, metrics on 8082, gRPC on 7070), every model in
     * {@code repository}, 64 MiB requests, logs/access.log.
     */
    public static ServerConfig defaults(Path repository) {
        return new ServerConfig("127.0.0.1", 8080, repository, List.of(), DEFAULT_MAX_REQUEST_SIZE,
                DEFAULT_METRICS_PORT, DEFAULT_ACCESS_LOG, ManagementConfig.defaults(), SecurityConfig.defaults(),
                DEFAULT_GRPC_PORT, HandlerConfig.defaults());
    }

    /** The in-flight body budget when none is set: four bodies of the largest size. */
    public static long defaultInflightBytes(long maxRequestSize) {
        return Math.multiplyExact(maxRequestSize, 4L);
    }

    /** Whether models may load handler code from jars in their directories. */
    public boolean allowCustomHandlers() {
        return handlers.allowCustomHandlers();
    }

    /** Threads for handlers' pre- and postprocessing; 0 picks a quarter of the cores. */
    public int preprocessThreads() {
        return handlers.preprocessThreads();
    }

    /** Whether the Prometheus listener runs. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }
}
