package dev.torchlight.server.http;

import io.netty.handler.codec.http.FullHttpRequest;
import java.util.concurrent.CompletableFuture;

/**
 * What one HTTP listener serves: the inference routes, the management routes, or either behind a
 * token check. The connection handling ({@link HttpServer}) is the same for all of them.
 */
@FunctionalInterface
public interface HttpRoutes {

    /**
     * Routes one request. The body is released when this returns: copy what is kept. May throw, and
     * the future may fail, with the failure to answer (mapped by {@link HttpErrorMapper}).
     */
    CompletableFuture<HttpReply> route(FullHttpRequest request);
}
