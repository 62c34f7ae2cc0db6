package dev.torchlight.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The management listener and the model lifecycle.
 *
 * @param host address the management listener binds; loopback by default
 * @param port management port; 0 picks any free port
 * @param modelControl who decides which models are loaded
 * @param pollInterval how often {@link ModelControl#POLL} rescans the repository
 * @param shutdownGrace how long a stop may take to answer the requests already accepted
 */
public record ManagementConfig(String host, int port, ModelControl modelControl, Duration pollInterval,
        Duration shutdownGrace) {
    public static final int DEFAULT_PORT = 8081;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(15);
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

    public ManagementConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelControl, "modelControl");
        Objects.requireNonNull(pollInterval, "pollInterval");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    }

    /** Loopback on 8081, explicit model control, 15 s polls, 30 s grace. */
    public static ManagementConfig defaults() {
        return new ManagementConfig("127.0.0.1", DEFAULT_PORT, ModelControl.EXPLICIT, DEFAULT_POLL_INTERVAL,
                DEFAULT_SHUTDOWN_GRACE);
    }

    /** As {@link #defaults()} on any free port: for servers embedded in tests. */
    public static ManagementConfig ephemeral() {
        return new ManagementConfig("127.0.0.1", 0, ModelControl.EXPLICIT, DEFAULT_POLL_INTERVAL,
                DEFAULT_SHUTDOWN_GRACE);
    }
}
