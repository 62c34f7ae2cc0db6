package dev.torchlight.server.auth;

import dev.torchlight.api.ServingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Checks an {@code Authorization: Bearer <key>} value against one key, in constant time. Free of
 * protocol types so that every front end can use it: the HTTP listeners through
 * {@link TokenProtectedRoutes}, a gRPC {@code ServerInterceptor} by passing its
 * {@code authorization} metadata value to {@link #check}.
 */
public final class BearerToken {
    private static final String SCHEME = "bearer ";

    private final byte[] key;
    private final String api;

    /**
     * @param key the expected key
     * @param api what the key opens, for messages, e.g. {@code management}
     */
    public BearerToken(String key, String api) {
        this.key = Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8);
        this.api = Objects.requireNonNull(api, "api");
    }

    /**
     * @param authorization the request's Authorization header, or null when it has none
     * @throws ServingException.Unauthorized without credentials (HTTP 401, gRPC UNAUTHENTICATED) or
     *     with the wrong ones (HTTP 403, gRPC PERMISSION_DENIED)
     */
    public void check(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new ServingException.Unauthorized("the " + api + " API needs 'Authorization: Bearer <" + api
                    + " key>'; the key is in the key file named in the server's start-up log", false);
        }
        String value = authorization.strip();
        if (value.length() < SCHEME.length() || !value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            throw new ServingException.Unauthorized("the Authorization header must be 'Bearer <" + api + " key>'",
                    true);
        }
        byte[] given = value.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8);
        // MessageDigest.isEqual takes the same time wherever the first difference is.
        if (!MessageDigest.isEqual(given, key)) {
            throw new ServingException.Unauthorized("the bearer token is not the " + api + " key", true);
        }
    }
}
