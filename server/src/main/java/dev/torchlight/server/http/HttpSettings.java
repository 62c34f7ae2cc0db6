package dev.torchlight.server.http;

import dev.torchlight.config.ClientTimeouts;
import dev.torchlight.config.ServerConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the HTTP front end listens.
 *
 * @param host address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port TCP port; 0 picks any free port (see {@link HttpServer#start()} for the one bound)
 * @param maxRequestSize largest request body accepted, in bytes (1 to {@link Integer#MAX_VALUE});
 *     a larger body is answered with 413 before it is read in full
 * @param headerTimeout longest a client may take to send a request's headers, from their first byte
 *     (then 408 and the connection closes); zero: no limit
 * @param bodyTimeout longest a client may take to send a request's body, from the end of its headers
 *     (then 408 and the connection closes); zero: no limit
 * @param idleTimeout longest a connection may stay open with no request on it (then it closes);
 *     zero: no limit
 */
public record HttpSettings(String host, int port, long maxRequestSize, Duration headerTimeout, Duration bodyTimeout,
        Duration idleTimeout) {

    /** 64 MiB, the default body limit. */
    public static final long DEFAULT_MAX_REQUEST_SIZE = 64L * 1024 * 1024;

    public HttpSettings {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        // Netty aggregates a body into one buffer, whose size is an int.
        if (maxRequestSize < 1 || maxRequestSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "maxRequestSize must be between 1 and " + Integer.MAX_VALUE + " bytes, got " + maxRequestSize);
        }
        for (Duration d : new Duration[] {headerTimeout, bodyTimeout, idleTimeout}) {
            if (Objects.requireNonNull(d, "timeout").isNegative()) {
                throw new IllegalArgumentException("timeouts must not be negative, got " + d);
            }
        }
    }

    /** With the default timeouts ({@link ClientTimeouts#DEFAULTS}). */
    public HttpSettings(String host, int port, long maxRequestSize) {
        this(host, port, maxRequestSize, ClientTimeouts.DEFAULTS);
    }

    /** With {@code timeouts}. */
    public HttpSettings(String host, int port, long maxRequestSize, ClientTimeouts timeouts) {
        this(host, port, maxRequestSize, timeouts.header(), timeouts.body(), timeouts.idle());
    }

    /** A listener on {@code host:port} with the server's body limit and client timeouts. */
    public static HttpSettings of(String host, int port, ServerConfig config) {
        return new HttpSettings(host, port, config.maxRequestSize(), config.clientTimeouts());
    }
}
