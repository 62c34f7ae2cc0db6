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
 * @param maxRequestSize largest request body accepted, in bytes
 * @param metricsPort port of the Prometheus listener (same host); 0 picks any free port,
 *     {@link #METRICS_OFF} turns metrics off
 * @param accessLog file that gets one line per request, or null for no access log
 */
public record ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
        int metricsPort, Path accessLog) {
    /** 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 64L << 20;
    /** The Prometheus port by default, TorchServe's metrics port. */
    public static final int DEFAULT_METRICS_PORT = 8082;
    /** {@link #metricsPort} when metrics are off. */
    public static final int METRICS_OFF = -1;
    /** The access log by default, relative to the working directory. */
    public static final Path DEFAULT_ACCESS_LOG = Path.of("logs", "access.log");

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelRepository, "modelRepository");
        models = List.copyOf(models);
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            throw new IllegalArgumentException("metricsPort must be -1 (off) or 0 to 65535, got " + metricsPort);
        }
    }

    /** Without metrics listener and access log (what embedded servers and tests want). */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize) {
        this(host, httpPort, modelRepository, models, maxRequestSize, METRICS_OFF, null);
    }

    /** Loopback on 8080 with metrics on 8082, every model in {@code repository}, 64 MiB requests, logs/access.log. */
    public static ServerConfig defaults(Path repository) {
        return new ServerConfig("127.0.0.1", 8080, repository, List.of(), DEFAULT_MAX_REQUEST_SIZE,
                DEFAULT_METRICS_PORT, DEFAULT_ACCESS_LOG);
    }

    /** Whether the Prometheus listener runs. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }
}
