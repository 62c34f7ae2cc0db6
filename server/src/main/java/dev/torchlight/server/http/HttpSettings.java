package dev.torchlight.server.http;

import java.util.Objects;

/**
 * Where and how the HTTP front end listens.
 *
 * @param host address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port TCP port; 0 picks any free port (see {@link HttpServer#start()} for the one bound)
 * @param maxRequestSize largest request body accepted, in bytes (1 to {@link Integer#MAX_VALUE});
 *     a larger body is answered with 413 before it is read in full
 */
public record HttpSettings(String host, int port, long maxRequestSize) {

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
    }
}
