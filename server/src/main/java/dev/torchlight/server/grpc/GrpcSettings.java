package dev.torchlight.server.grpc;

import java.util.Objects;

/**
 * Where and how the gRPC front end listens.
 *
 * @param host address to bind
 * @param port TCP port; 0 picks any free port (see {@link GrpcServer#start()} for the one bound)
 * @param maxMessageSize largest request message accepted, in bytes (the server's
 *     {@code --max-request-size}); a larger one is refused with RESOURCE_EXHAUSTED before it is
 *     read in full
 */
public record GrpcSettings(String host, int port, long maxMessageSize) {
    public GrpcSettings {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (maxMessageSize < 1 || maxMessageSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "maxMessageSize must be between 1 and " + Integer.MAX_VALUE + " bytes, got " + maxMessageSize);
        }
    }
}
