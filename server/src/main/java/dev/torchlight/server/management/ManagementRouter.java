package dev.torchlight.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelControl;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.server.http.HttpPaths;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.HttpRoutes;
import dev.torchlight.server.http.JsonReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The management listener's routes (paths in {@code docs/MANAGEMENT.md}). Reads are answered on the
 * event loop; calls that load or release models run on management threads, never on an event loop,
 * and the reply is written when they finish. Changes to one model are serialized by the
 * {@link ModelManager}; a slow load of one model does not hold up calls about the others.
 */
public final class ManagementRouter implements HttpRoutes, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ManagementApi api;
    private final Registration registration;
    private final RepositoryApi repository;
    private final TrafficApi traffic;
    private final ExecutorService changes = Executors.newCachedThreadPool(
            r -> Thread.ofPlatform().name("management").daemon(true).unstarted(r));

    public ManagementRouter(ModelManager manager, ModelRepository repository, ModelRegistrar registrar,
            ModelControl control) {
        this.api = new ManagementApi(manager, control, changes);
        this.registration = new Registration(manager, registrar, api, changes);
        this.traffic = new TrafficApi(manager);
        this.repository = new RepositoryApi(manager, repository, api, traffic);
    }

    @Override
    public CompletableFuture<HttpReply> route(FullHttpRequest request) {
        HttpMethod method = request.method();
        List<String> s = HttpPaths.segments(request.uri());
        Map<String, List<String>> query = new QueryStringDecoder(request.uri()).parameters();
        int n = s.size();
        if (n == 3 && s.get(0).equals("models") && s.get(2).equals("traffic")) {
            return traffic(method, s.get(1), request.content());
        }
        if (n >= 1 && s.get(0).equals("models")) {
            return models(method, s, new QueryParams(n == 1 && method.equals(HttpMethod.POST)
                    ? withJsonBody(query, request) : query));
        }
        if (n >= 3 && s.get(0).equals("v2") && s.get(1).equals("repository")) {
            if (n == 3 && s.get(2).equals("index")) {
                boolean readyOnly = readyOnly(request.content());
                return only(HttpMethod.POST, method, () -> done(repository.index(readyOnly)));
            }
            if (n == 5 && s.get(2).equals("models")) {
                String model = s.get(3);
                return switch (s.get(4)) {
                    case "load" -> only(HttpMethod.POST, method, () -> {
                        TrafficApi.Change split = loadTraffic(request.content());
                        return change(() -> repository.load(model, split));
                    });
                    case "unload" -> only(HttpMethod.POST, method, () -> change(() -> repository.unload(model)));
                    default -> notFound(method, request.uri());
                };
            }
        }
        return notFound(method, request.uri());
    }

    /** TorchServe's {@code /models} paths; a version is named by its public name or its number. */
    private CompletableFuture<HttpReply> models(HttpMethod method, List<String> s, QueryParams q) {
        int n = s.size();
        if (n == 1) {
            if (method.equals(HttpMethod.GET)) {
                return done(api.list(q));
            }
            if (method.equals(HttpMethod.POST)) {
                return change(() -> registration.register(q));
            }
            return notAllowed(method, "GET, POST");
        }
        String model = s.get(1);
        String version = n >= 3 ? s.get(2) : null;
        if (n == 2 || n == 3) {
            if (method.equals(HttpMethod.GET)) {
                return done(api.describe(model, version));
            }
            if (method.equals(HttpMethod.PUT)) {
                return change(() -> api.scale(model, version, q));
            }
            if (method.equals(HttpMethod.DELETE)) {
                return change(() -> api.unregister(model, version));
            }
            return notAllowed(method, "GET, PUT, DELETE");
        }
        if (n == 4 && s.get(3).equals("set-default")) {
            return only(HttpMethod.PUT, method, () -> change(() -> api.setDefault(model, version)));
        }
        return done(JsonReplies.error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " /"
                + String.join("/", s)));
    }

    /**
     * {@code /models/{m}/traffic}: GET shows the split, PUT sets it (the body read here, on the event
     * loop), DELETE clears it; changes run on a management thread.
     */
    private CompletableFuture<HttpReply> traffic(HttpMethod method, String model, ByteBuf body) {
        if (method.equals(HttpMethod.GET)) {
            return done(traffic.show(model));
        }
        if (method.equals(HttpMethod.PUT)) {
            TrafficApi.Change split = TrafficApi.parse(json(body), "the body");
            return change(() -> traffic.apply(model, split));
        }
        if (method.equals(HttpMethod.DELETE)) {
            return change(() -> traffic.apply(model, TrafficApi.Change.CLEAR));
        }
        return notAllowed(method, "GET, PUT, DELETE");
    }

    /**
     * The {@code parameters.traffic} of a repository load's body, or null when it sets none: the
     * split is set once the model has loaded ({@code null} clears it).
     */
    private static TrafficApi.Change loadTraffic(ByteBuf body) {
        JsonNode node = json(body);
        if (node.isMissingNode()) {
            return null;
        }
        if (!node.isObject()) {
            throw new ServingException.InvalidInput("expected a JSON object such as {\"parameters\": {\"traffic\":"
                    + " {\"1\": 90, \"2\": 10}}}");
        }
        JsonNode parameters = node.get("parameters");
        if (parameters == null || parameters.isNull()) {
            return null;
        }
        if (!parameters.isObject()) {
            throw new ServingException.InvalidInput("'parameters' must be a JSON object, such as {\"traffic\":"
                    + " {\"1\": 90, \"2\": 10}}");
        }
        return parameters.has("traffic") ? TrafficApi.parse(parameters.get("traffic"), "parameters.traffic") : null;
    }

    /** The body as JSON; a missing node when it is empty. */
    private static JsonNode json(ByteBuf body) {
        try {
            JsonNode node = body.isReadable() ? JSON.readTree(new ByteBufInputStream(body.duplicate())) : null;
            return node == null ? MissingNode.getInstance() : node;
        } catch (IOException e) {
            throw new ServingException.InvalidInput("the body is not valid JSON: "
                    + dev.torchlight.server.http.json.Json.describe(e));
        }
    }

    /**
     * The query, with the fields of a JSON object body added: TorchServe also takes a registration's
     * parameters as JSON ({@code Content-Type: application/json}).
     */
    private static Map<String, List<String>> withJsonBody(Map<String, List<String>> query, FullHttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        ByteBuf body = request.content();
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")
                || !body.isReadable()) {
            return query;
        }
        JsonNode node = json(body);
        if (!node.isObject()) {
            throw new ServingException.InvalidInput("expected a JSON object of registration parameters, such as"
                    + " {\"url\": \"mlp\", \"initial_workers\": 1}");
        }
        Map<String, List<String>> merged = new java.util.LinkedHashMap<>(query);
        node.properties().forEach(e -> {
            if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                merged.put(e.getKey(), List.of(e.getValue().asText()));
            }
        });
        return merged;
    }

    /** Runs a change on the management thread; its failure becomes the reply. */
    private CompletableFuture<HttpReply> change(Supplier<HttpReply> work) {
        return CompletableFuture.supplyAsync(work, changes);
    }

    private static boolean readyOnly(ByteBuf body) {
        JsonNode node = json(body);
        if (node.isMissingNode()) {
            return false;
        }
        if (!node.isObject()) {
            throw new ServingException.InvalidInput("expected a JSON object such as {\"ready\": true}");
        }
        JsonNode ready = node.get("ready");
        if (ready != null && !ready.isBoolean()) {
            throw new ServingException.InvalidInput("'ready' must be true or false");
        }
        return ready != null && ready.booleanValue();
    }

    private static CompletableFuture<HttpReply> only(HttpMethod allowed, HttpMethod actual,
            Supplier<CompletableFuture<HttpReply>> handler) {
        if (!allowed.equals(actual)) {
            return notAllowed(actual, allowed.name());
        }
        return handler.get();
    }

    private static CompletableFuture<HttpReply> notAllowed(HttpMethod actual, String allowed) {
        return done(JsonReplies.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                "method " + actual + " is not allowed here; use " + allowed).withHeader(HttpHeaderNames.ALLOW, allowed));
    }

    private static CompletableFuture<HttpReply> notFound(HttpMethod method, String uri) {
        return done(JsonReplies.error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " "
                + new QueryStringDecoder(uri).rawPath()));
    }

    private static CompletableFuture<HttpReply> done(HttpReply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    /** Waits for a change in progress, then stops the management thread. */
    @Override
    public void close() {
        changes.shutdown();
        try {
            changes.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
