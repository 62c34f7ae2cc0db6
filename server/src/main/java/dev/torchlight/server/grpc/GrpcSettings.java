package dev.torchlight.server.grpc;

import dev.torchlight.config.ClientTimeouts;
import dev.torchlight.config.ServerConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the gRPC front end listens.
 *
 * @param host address to bind
 * @param port TCP port; 0 picks any free port (see {@link GrpcServer#start()} for the one bound)
 * @param maxMessageSize largest request message accepted, in bytes (the server's
 *     {@code --max-request-size}); a larger one is refused with RESOURCE_EXHAUSTED before it is
 *     read in full
 * @param handshakeTimeout longest a connection may take to set itself up (TLS, HTTP/2); zero: no limit
 * @param idleTimeout longest a connection may stay open with no call on it (then GOAWAY and close);
 *     zero: no limit
 * @param maxInflightBytes most request message bytes held at once over all calls, received and not yet
 *     answered (at least {@code maxMessageSize}); a message that does not fit fails its call with
 *     UNAVAILABLE. The server's gRPC listener shares this budget with its HTTP inference listener.
 * @param messageTimeout longest a client may take to send a request message: a unary call's from the
 *     call's start, any message's from its first bytes (then the call is cancelled); zero: no limit
 */
public record GrpcSettings(String host, int port, long maxMessageSize, Duration handshakeTimeout,
        Duration idleTimeout, long maxInflightBytes, Duration messageTimeout) {

    /** With the default client timeouts ({@link ClientTimeouts#DEFAULTS}: header and idle). */
    public GrpcSettings(String host, int port, long maxMessageSize) {
        this(host, port, maxMessageSize, ClientTimeouts.DEFAULTS.header(), ClientTimeouts.DEFAULTS.idle());
    }

    /** With the default in-flight budget (four messages of the largest size). */
    public GrpcSettings(String host, int port, long maxMessageSize, Duration handshakeTimeout, Duration idleTimeout) {
        this(host, port, maxMessageSize, handshakeTimeout, idleTimeout,
                ServerConfig.defaultInflightBytes(maxMessageSize));
    }

    /** With the default message timeout ({@link ClientTimeouts#DEFAULTS}: body). */
    public GrpcSettings(String host, int port, long maxMessageSize, Duration handshakeTimeout, Duration idleTimeout,
            long maxInflightBytes) {
        this(host, port, maxMessageSize, handshakeTimeout, idleTimeout, maxInflightBytes,
                ClientTimeouts.DEFAULTS.body());
    }

    /**
     * A listener on {@code host:port} with the server's message limit, client timeouts (header: set-up;
     * body: a message; idle) and in-flight budget.
     */
    public static GrpcSettings of(String host, int port, ServerConfig config) {
        return new GrpcSettings(host, port, config.maxRequestSize(), config.clientTimeouts().header(),
                config.clientTimeouts().idle(), config.maxInflightBytes(), config.clientTimeouts().body());
    }

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
        if (maxInflightBytes < maxMessageSize) {
            throw new IllegalArgumentException("maxInflightBytes must be at least maxMessageSize (" + maxMessageSize
                    + "), got " + maxInflightBytes);
        }
        for (Duration d : new Duration[] {handshakeTimeout, idleTimeout, messageTimeout}) {
            if (Objects.requireNonNull(d, "timeout").isNegative()) {
                throw new IllegalArgumentException("timeouts must not be negative, got " + d);
            }
        }
    }
}
