package dev.torchlight.server.tls;

import dev.torchlight.config.ConfigException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * Server TLS from a PEM certificate chain and a PEM (PKCS#8) private key, for every listener.
 * HTTP listeners take {@link #server}; a gRPC listener (grpc-netty, unshaded) takes
 * {@code GrpcSslContexts.configure(TlsContexts.builder(cert, key)).build()}, which adds the
 * HTTP/2 ALPN settings gRPC needs to the same certificate and key.
 */
public final class TlsContexts {
    private TlsContexts() {}

    /**
     * @throws ConfigException naming the flag when a file is missing, unreadable or not a matching PEM pair
     */
    public static SslContext server(Path cert, Path key) {
        try {
            return builder(cert, key).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw invalid(cert, key, e);
        }
    }

    /** A builder with the certificate and key, for listeners that add their own protocol settings. */
    public static SslContextBuilder builder(Path cert, Path key) {
        readable(cert, "--tls-cert");
        readable(key, "--tls-key");
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile());
        } catch (IllegalArgumentException e) {
            throw invalid(cert, key, e);
        }
    }

    private static ConfigException invalid(Path cert, Path key, Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return new ConfigException("--tls-cert " + cert + " / --tls-key " + key
                + ": expected a PEM certificate chain and its unencrypted PEM (PKCS#8) private key: "
                + cause.getMessage(), e);
    }

    private static void readable(Path file, String flag) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(flag + " " + file + ": not a readable file");
        }
    }
}
