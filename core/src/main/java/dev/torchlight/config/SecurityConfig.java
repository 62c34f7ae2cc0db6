package dev.torchlight.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Authentication, what may be registered, and TLS.
 *
 * @param tokenAuth whether the management API needs its key ({@code --disable-token-auth} turns it off)
 * @param inferenceToken whether the inference API needs the inference key too (off by default)
 * @param keyFile where the generated keys are written; null for a new owner-only temporary directory
 * @param allowedUrls regular expressions; a registration URL outside the model repository must match
 *     one in full
 * @param tlsCert PEM certificate chain for the listeners, or null for plain HTTP
 * @param tlsKey PEM (PKCS#8) private key matching {@code tlsCert}, or null
 */
public record SecurityConfig(boolean tokenAuth, boolean inferenceToken, Path keyFile, List<String> allowedUrls,
        Path tlsCert, Path tlsKey) {

    public SecurityConfig {
        allowedUrls = List.copyOf(allowedUrls);
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new ConfigException("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)");
        }
    }

    /** Tokens on for management, off for inference; repository-only registration; no TLS. */
    public static SecurityConfig defaults() {
        return new SecurityConfig(true, false, null, List.of(), null, null);
    }

    public boolean tls() {
        return tlsCert != null;
    }
}
