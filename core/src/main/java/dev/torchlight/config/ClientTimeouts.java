package dev.torchlight.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How long an HTTP client may take (flags {@code --http-header-timeout}, {@code --http-body-timeout},
 * {@code --http-idle-timeout}); zero means no limit. The gRPC listener applies the header timeout to a
 * connection's set-up and the idle timeout to connections without calls.
 *
 * @param header to send a request's headers, from their first byte (then 408 and the connection closes)
 * @param body to send a request's body, from the end of its headers (then 408 and the connection closes)
 * @param idle to keep a connection open with no request on it (then it closes)
 */
public record ClientTimeouts(Duration header, Duration body, Duration idle) {
    /** 10 s for headers (a few hundred bytes), 60 s for a body (64 MiB at about 1 MiB/s), 120 s idle. */
    public static final ClientTimeouts DEFAULTS =
            new ClientTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(120));

    public ClientTimeouts {
        for (Duration d : new Duration[] {header, body, idle}) {
            if (Objects.requireNonNull(d, "timeout").isNegative()) {
                throw new IllegalArgumentException("timeouts must not be negative, got " + d);
            }
        }
    }
}
