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
 * @param management the management listener and the model lifecycle
 * @param security tokens, registration allowlist and TLS
 */
public record ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize,
        ManagementConfig management, SecurityConfig security) {
    /** 64 MiB. */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 64L << 20;

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelRepository, "modelRepository");
        models = List.copyOf(models);
        Objects.requireNonNull(management, "management");
        Objects.requireNonNull(security, "security");
    }

    /** Management on any free loopback port, default security: for servers embedded in tests. */
    public ServerConfig(String host, int httpPort, Path modelRepository, List<String> models, long maxRequestSize) {
        this(host, httpPort, modelRepository, models, maxRequestSize, ManagementConfig.ephemeral(),
                SecurityConfig.defaults());
    }

    /** The same config with other management settings. */
    public ServerConfig withManagement(ManagementConfig other) {
        return new ServerConfig(host, httpPort, modelRepository, models, maxRequestSize, other, security);
    }

    /** The same config with other security settings. */
    public ServerConfig withSecurity(SecurityConfig other) {
        return new ServerConfig(host, httpPort, modelRepository, models, maxRequestSize, management, other);
    }

    /** Loopback on 8080 (management on 8081), every model in {@code repository}, 64 MiB requests. */
    public static ServerConfig defaults(Path repository) {
        return new ServerConfig("127.0.0.1", 8080, repository, List.of(), DEFAULT_MAX_REQUEST_SIZE,
                ManagementConfig.defaults(), SecurityConfig.defaults());
    }
}
