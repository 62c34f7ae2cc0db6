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
 * @param maxInflightBytes most request body bytes held at once over all connections, read and not yet
 *     answered (at least {@code maxRequestSize}); a request that does not fit gets 503
 */
public record HttpSettings(String host, int port, long maxRequestSize, Duration headerTimeout, Duration bodyTimeout,
        Duration idleTimeout, long maxInflightBytes) {

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
        if (maxInflightBytes < maxRequestSize) {
            throw new IllegalArgumentException("maxInflightBytes must be at least maxRequestSize (" + maxRequestSize
                    + "), got " + maxInflightBytes);
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

    /** With {@code timeouts} and the default in-flight budget (four bodies of the largest size). */
    public HttpSettings(String host, int port, long maxRequestSize, ClientTimeouts timeouts) {
        this(host, port, maxRequestSize, timeouts.header(), timeouts.body(), timeouts.idle(),
                ServerConfig.defaultInflightBytes(maxRequestSize));
    }

    /** With these timeouts and the default in-flight budget. */
    public HttpSettings(String host, int port, long maxRequestSize, Duration headerTimeout, Duration bodyTimeout,
            Duration idleTimeout) {
        this(host, port, maxRequestSize, new ClientTimeouts(headerTimeout, bodyTimeout, idleTimeout));
    }

    /** A listener on {@code host:port} with the server's body limit, client timeouts and in-flight budget. */
    public static HttpSettings of(String host, int port, ServerConfig config) {
        ClientTimeouts t = config.clientTimeouts();
        return new HttpSettings(host, port, config.maxRequestSize(), t.header(), t.body(), t.idle(),
                config.maxInflightBytes());
    }
}
