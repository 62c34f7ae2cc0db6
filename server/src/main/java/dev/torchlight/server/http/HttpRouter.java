package dev.torchlight.server.http;

import dev.torchlight.registry.RequestHeaders;
import dev.torchlight.server.health.HealthDetail;
import dev.torchlight.server.http.torchserve.TorchServeEndpoints;
import dev.torchlight.server.http.v1.V1Endpoints;
import dev.torchlight.server.http.v2.TritonModelConfig;
import dev.torchlight.server.http.v2.V2Endpoints;
import dev.torchlight.server.http.v2.V2Statistics;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.RequestControls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Maps method and path to the v2 (with Triton's model configuration), v1 and TorchServe endpoints.
 * Paths are split on {@code /} (empty segments ignored, so a trailing slash does not matter) and
 * each segment is percent-decoded; the query string is ignored. A known path with the wrong method is a 405 with an Allow header.
 */
final class HttpRouter implements HttpRoutes {
    private final V2Endpoints v2;
    private final TorchServeEndpoints torchServe;
    private final V2Statistics statistics;
    private final HealthDetail healthDetail;
    private final V1Endpoints v1;
    private final TritonModelConfig tritonConfig;

    HttpRouter(InferenceLayer inference, String serverVersion) {
        this.v1 = new V1Endpoints(inference);
        this.tritonConfig = new TritonModelConfig(inference);
        this.v2 = new V2Endpoints(inference, serverVersion);
        this.statistics = new V2Statistics(inference);
        this.torchServe = new TorchServeEndpoints(inference);
        this.healthDetail = new HealthDetail(inference);
    }

    /** Routes one request; may throw, and the returned future may fail, with the failure to answer. */
    @Override
    public CompletableFuture<HttpReply> route(FullHttpRequest request) {
        HttpMethod method = request.method();
        List<String> s = HttpPaths.segments(request.uri());
        int n = s.size();
        if (n == 1 && s.get(0).equals("ping")) {
            return only(HttpMethod.GET, method, () -> done(torchServe.ping()));
        }
        if ((n == 2 || n == 3) && s.get(0).equals("predictions")) {
            // TorchServe also takes PUT here: its documented example is curl -T kitten.jpg.
            return only(HttpMethod.POST, HttpMethod.PUT.equals(method) ? HttpMethod.POST : method,
                    () -> torchServe.predict(s.get(1), n == 3 ? s.get(2) : null, body(request),
                            controls(request),
                            request.headers().get(HttpHeaderNames.CONTENT_TYPE), routing(request)));
        }
        if (n == 2 && s.get(0).equals("health") && s.get(1).equals("detail")) {
            return only(HttpMethod.GET, method, () -> done(healthDetail.reply()));
        }
        if ((n == 2 || n == 3) && s.get(0).equals("v1") && s.get(1).equals("models")) {
            return v1(request, method, s);
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

    /** {@code /v1/models}, {@code /v1/models/{m}} and {@code /v1/models/{m}:predict}. */
    private CompletableFuture<HttpReply> v1(FullHttpRequest request, HttpMethod method, List<String> s) {
        if (s.size() == 2) {
            return only(HttpMethod.GET, method, () -> done(v1.models()));
        }
        String last = s.get(2);
        if (last.endsWith(V1Endpoints.PREDICT) && last.length() > V1Endpoints.PREDICT.length()) {
            String model = last.substring(0, last.length() - V1Endpoints.PREDICT.length());
            return only(HttpMethod.POST, method, () -> v1.predict(model, body(request), controls(request),
                    routing(request)));
        }
        if (last.contains(":")) {
            return notFound(method, request.uri());
        }
        return only(HttpMethod.GET, method, () -> done(v1.model(last)));
    }

    /** {@code /v2/models/{m}[/versions/{v}][/ready|/infer|/stats|/config]}. */
    private CompletableFuture<HttpReply> model(FullHttpRequest request, HttpMethod method, List<String> s) {
        String model = s.get(2);
        int n = s.size();
        boolean versioned = n >= 5 && s.get(3).equals("versions");
        int actionAt = versioned ? 5 : 3;
        if (n > actionAt + 1 || (n == 4 && s.get(3).equals("versions"))) {
            return notFound(method, request.uri());
        }
        Supplier<Long> version = () -> versioned ? HttpPaths.version(s.get(4)) : null;
        if (n == actionAt) {
            return only(HttpMethod.GET, method, () -> done(v2.modelMetadata(model, version.get())));
        }
        return switch (s.get(actionAt)) {
            case "ready" -> only(HttpMethod.GET, method, () -> done(v2.modelReady(model, version.get())));
            case "infer" -> only(HttpMethod.POST, method,
                    () -> v2.infer(model, version.get(), body(request), controls(request),
                            request.headers().get(V2Endpoints.BINARY_HEADER_LENGTH), routing(request)));
            case "stats" -> only(HttpMethod.GET, method, () -> done(statistics.statistics(model, version.get())));
            case "config" -> only(HttpMethod.GET, method, () -> done(tritonConfig.config(model, version.get())));
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

    private static RequestControls controls(FullHttpRequest request) {
        return RequestControls.fromHeaders(request.headers()::getAll);
    }

    /** The headers a traffic split's sticky header is read from, while the request resolves its version. */
    private static RequestHeaders routing(FullHttpRequest request) {
        return request.headers()::get;
    }

    private static byte[] body(FullHttpRequest request) {
        ByteBuf content = request.content();
        return ByteBufUtil.getBytes(content, content.readerIndex(), content.readableBytes(), false);
    }

    private static String pathOf(String uri) {
        return new QueryStringDecoder(uri).rawPath();
    }
}
