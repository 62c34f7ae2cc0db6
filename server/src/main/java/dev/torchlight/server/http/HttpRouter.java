package dev.torchlight.server.http;

import dev.torchlight.api.ServingException;
import dev.torchlight.registry.ModelService;
import dev.torchlight.server.health.HealthDetail;
import dev.torchlight.server.http.handler.HandlerEndpoints;
import dev.torchlight.server.http.torchserve.TorchServeHandler;
import dev.torchlight.server.http.v2.V2Handler;
import dev.torchlight.server.http.v2.V2Statistics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Maps method and path to the v2 and TorchServe handlers. Paths are split on {@code /} (empty
 * segments ignored, so a trailing slash does not matter) and each segment is percent-decoded;
 * the query string is ignored. A known path with the wrong method is a 405 with an Allow header.
 */
final class HttpRouter implements HttpRoutes {
    private static final int MAX_VERSION_DIGITS = 18; // fits a long

    private final V2Handler v2;
    private final TorchServeHandler torchServe;
    private final V2Statistics statistics;
    private final HealthDetail healthDetail;

    HttpRouter(ModelService service, String serverVersion) {
        this(service, serverVersion, null);
    }

    /** @param handlers serves models with a handler (images); null for none */
    HttpRouter(ModelService service, String serverVersion, HandlerEndpoints handlers) {
        this.v2 = new V2Handler(service, serverVersion, handlers);
        this.statistics = new V2Statistics(service);
        this.torchServe = new TorchServeHandler(service, handlers);
        this.healthDetail = new HealthDetail(service);
    }

    /** Routes one request; may throw, and the returned future may fail, with the failure to answer. */
    @Override
    public CompletableFuture<HttpReply> route(FullHttpRequest request) {
        HttpMethod method = request.method();
        List<String> s = segments(request.uri());
        int n = s.size();
        if (n == 1 && s.get(0).equals("ping")) {
            return only(HttpMethod.GET, method, () -> done(torchServe.ping()));
        }
        if ((n == 2 || n == 3) && s.get(0).equals("predictions")) {
            // TorchServe also takes PUT here: its documented example is curl -T kitten.jpg.
            return only(HttpMethod.POST, HttpMethod.PUT.equals(method) ? HttpMethod.POST : method,
                    () -> torchServe.predict(s.get(1), n == 3 ? version(s.get(2)) : null, body(request),
                            RequestControls.fromHeaders(request.headers()),
                            request.headers().get(HttpHeaderNames.CONTENT_TYPE)));
        }
        if (n == 2 && s.get(0).equals("health") && s.get(1).equals("detail")) {
            return only(HttpMethod.GET, method, () -> done(healthDetail.reply()));
        }
        if (n == 0 || !s.get(0).equals("v2")) {
            return notFound(method, request.uri());
        }
        if (n == 1) {
            return only(HttpMethod.GET, method, () -> done(v2.serverMetadata()));
        }
        if (n == 3 && s.get(1).equals("health")) {
            switch (s.get(2)) {
                case "live" -> {
                    return only(HttpMethod.GET, method, () -> done(v2.live()));
                }
                case "ready" -> {
                    return only(HttpMethod.GET, method, () -> done(v2.ready()));
                }
                default -> {
                    return notFound(method, request.uri());
                }
            }
        }
        if (n == 3 && s.get(1).equals("models") && s.get(2).equals("stats")) {
            return only(HttpMethod.GET, method, () -> done(statistics.statistics(null, null)));
        }
        if (n >= 3 && s.get(1).equals("models")) {
            return model(request, method, s);
        }
        return notFound(method, request.uri());
    }

    /** {@code /v2/models/{m}[/versions/{v}][/ready|/infer|/stats]}. */
    private CompletableFuture<HttpReply> model(FullHttpRequest request, HttpMethod method, List<String> s) {
        String model = s.get(2);
        int n = s.size();
        boolean versioned = n >= 5 && s.get(3).equals("versions");
        int actionAt = versioned ? 5 : 3;
        if (n > actionAt + 1 || (n == 4 && s.get(3).equals("versions"))) {
            return notFound(method, request.uri());
        }
        Supplier<Long> version = () -> versioned ? version(s.get(4)) : null;
        if (n == actionAt) {
            return only(HttpMethod.GET, method, () -> done(v2.modelMetadata(model, version.get())));
        }
        return switch (s.get(actionAt)) {
            case "ready" -> only(HttpMethod.GET, method, () -> done(v2.modelReady(model, version.get())));
            case "infer" -> only(HttpMethod.POST, method,
                    () -> v2.infer(model, version.get(), body(request), RequestControls.fromHeaders(request.headers()),
                            request.headers().get(V2Handler.BINARY_HEADER_LENGTH)));
            case "stats" -> only(HttpMethod.GET, method, () -> done(statistics.statistics(model, version.get())));
            default -> notFound(method, request.uri());
        };
    }

    private static CompletableFuture<HttpReply> only(HttpMethod allowed, HttpMethod actual,
            Supplier<CompletableFuture<HttpReply>> handler) {
        if (!allowed.equals(actual)) {
            return done(JsonReplies.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                            "method " + actual + " is not allowed here; use " + allowed)
                    .withHeader(HttpHeaderNames.ALLOW, allowed.name()));
        }
        return handler.get();
    }

    private static CompletableFuture<HttpReply> notFound(HttpMethod method, String uri) {
        return done(JsonReplies.error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " " + pathOf(uri)));
    }

    private static CompletableFuture<HttpReply> done(HttpReply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    /** A version path segment: a non-negative decimal integer, else 400. */
    public static long version(String segment) {
        if (segment.isEmpty() || segment.length() > MAX_VERSION_DIGITS || !segment.chars().allMatch(HttpRouter::isDigit)) {
            throw new ServingException.InvalidInput(
                    "model version must be a non-negative integer, got '" + segment + "'");
        }
        return Long.parseLong(segment);
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static byte[] body(FullHttpRequest request) {
        ByteBuf content = request.content();
        return ByteBufUtil.getBytes(content, content.readerIndex(), content.readableBytes(), false);
    }

    /** The path's segments, percent-decoded; empty ones dropped. */
    public static List<String> segments(String uri) {
        String raw = new QueryStringDecoder(uri).rawPath();
        List<String> out = new ArrayList<>(6);
        for (String part : raw.split("/")) {
            if (!part.isEmpty()) {
                try {
                    out.add(QueryStringDecoder.decodeComponent(part));
                } catch (IllegalArgumentException e) {
                    throw new ServingException.InvalidInput("malformed path: " + e.getMessage());
                }
            }
        }
        return out;
    }

    private static String pathOf(String uri) {
        return new QueryStringDecoder(uri).rawPath();
    }
}
