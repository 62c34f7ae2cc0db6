package dev.torchlight.server.auth;

import dev.torchlight.server.http.HttpPaths;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.HttpRoutes;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Routes that need a bearer token, except for a few open paths (health probes, which load
 * balancers and Kubernetes call without credentials). A refusal is a
 * {@link dev.torchlight.api.ServingException.Unauthorized}, answered as 401 or 403 by the
 * listener's error mapping.
 */
public final class TokenProtectedRoutes implements HttpRoutes {
    /** The inference listener's probe paths, open without a token. */
    public static final Set<List<String>> PROBES = Set.of(List.of("ping"), List.of("v2", "health", "live"),
            List.of("v2", "health", "ready"));

    private final BearerToken token;
    private final HttpRoutes routes;
    private final Set<List<String>> open;

    /** @param open paths (as segments) served without a token */
    public TokenProtectedRoutes(BearerToken token, HttpRoutes routes, Set<List<String>> open) {
        this.token = Objects.requireNonNull(token, "token");
        this.routes = Objects.requireNonNull(routes, "routes");
        this.open = Set.copyOf(open);
    }

    @Override
    public CompletableFuture<HttpReply> route(FullHttpRequest request) {
        if (open.isEmpty() || !open.contains(HttpPaths.segments(request.uri()))) {
            token.check(request.headers().get(HttpHeaderNames.AUTHORIZATION));
        }
        return routes.route(request);
    }
}
