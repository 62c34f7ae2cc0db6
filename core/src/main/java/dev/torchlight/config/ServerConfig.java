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
 * @param allowCustomHandlers whether models may load handler code from jars in their directories
 * @param preprocessThreads threads that run handlers' pre- and postprocessing; 0 picks a quarter
 *     of the cores
 */
public record ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
        boolean allowCustomHandlers, int preprocessThreads) {
    /** 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 64L << 20;

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelRepository, "modelRepository");
        models = List.copyOf(models);
    }

    /** No custom handlers, default preprocessing threads. */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize) {
        this(host, httpPort, modelRepository, models, maxRequestSize, false, 0);
    }

    /** Loopback on 8080, every model in {@code repository}, 64 MiB requests. */
    public static ServerConfig defaults(Path repository) {
        return new ServerConfig("127.0.0.1", 8080, repository, List.of(), DEFAULT_MAX_REQUEST_SIZE);
    }
}
