package dev.torchlight.server.management;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.api.ServingException;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.registry.TrafficSplit;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;

/**
 * A model's weighted traffic split (a canary) over the management API: {@code GET}, {@code PUT} and
 * {@code DELETE /models/{m}/traffic}, and the {@code traffic} parameter of the repository
 * extension's load. A split takes either form: flat, {@code {"1": 90, "2": 10}} (weights only), or
 * full, {@code {"weights": {"1": 90, "2": 10}, "sticky_header": "x-user-id"}}; keys are version
 * names or numbers. Works in every model control mode, as scaling does.
 */
final class TrafficApi {
    /** The full form's fields. */
    static final String WEIGHTS = "weights";
    static final String STICKY_HEADER = "sticky_header";
    private static final String EXAMPLE = "{\"1\": 90, \"2\": 10} or {\"weights\": {\"1\": 90, \"2\": 10},"
            + " \"sticky_header\": \"x-user-id\"}";

    /**
     * What a request asks of a model's split.
     *
     * @param weights weight per version name or number; null to clear the split
     * @param stickyHeader the header that keeps a caller on one version, or null
     */
    record Change(Map<String, Integer> weights, String stickyHeader) {
        /** Back to default-version routing. */
        static final Change CLEAR = new Change(null, null);
    }

    private final ModelManager manager;

    TrafficApi(ModelManager manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    /**
     * Reads a split in either form; JSON null clears it.
     *
     * @param where what the client sent it as, for the error messages (e.g. "the body")
     * @throws ServingException.InvalidInput naming what is wrong and what was expected
     */
    static Change parse(JsonNode node, String where) {
        if (node == null || node.isMissingNode()) {
            throw new ServingException.InvalidInput(where + " is empty; expected a traffic split such as " + EXAMPLE);
        }
        if (node.isNull()) {
            return Change.CLEAR;
        }
        if (!node.isObject()) {
            throw new ServingException.InvalidInput(where + " must be a JSON object, such as " + EXAMPLE + "; got "
                    + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (!node.has(WEIGHTS) && !node.has(STICKY_HEADER)) {
            return new Change(weights(node, where), null);
        }
        for (String field : (Iterable<String>) node::fieldNames) {
            if (!Set.of(WEIGHTS, STICKY_HEADER).contains(field)) {
                throw new ServingException.InvalidInput(where + " has an unknown field '" + field + "'; the full"
                        + " form takes '" + WEIGHTS + "' and '" + STICKY_HEADER + "', such as " + EXAMPLE);
            }
        }
        JsonNode weights = node.get(WEIGHTS);
        if (weights == null || !weights.isObject()) {
            throw new ServingException.InvalidInput(where + ": '" + WEIGHTS + "' must be an object of weights by"
                    + " version, such as {\"1\": 90, \"2\": 10}");
        }
        JsonNode header = node.get(STICKY_HEADER);
        if (header != null && !header.isNull() && !header.isTextual()) {
            throw new ServingException.InvalidInput(where + ": '" + STICKY_HEADER + "' must be a header name such as"
                    + " \"x-user-id\", or null; got " + header);
        }
        return new Change(weights(weights, where), header == null || header.isNull() ? null : header.asText());
    }

    private static Map<String, Integer> weights(JsonNode node, String where) {
        Map<String, Integer> weights = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode weight = e.getValue();
            if (!weight.isIntegralNumber() || !weight.canConvertToInt()) {
                throw new ServingException.InvalidInput(where + ": the weight of version '" + e.getKey()
                        + "' must be an integer from 0 to " + TrafficSplit.MAX_WEIGHT + "; got " + weight);
            }
            weights.put(e.getKey(), weight.intValue());
        }
        return weights;
    }

    /** {@code GET /models/{m}/traffic}. */
    HttpReply show(String model) {
        ServedModel served = manager.routes().model(model);
        return JsonReplies.json(HttpResponseStatus.OK, g -> write(g, served));
    }

    /** Sets or clears the split; answers with the split now in force. */
    HttpReply apply(String model, Change change) {
        if (change.weights() == null) {
            manager.clearTraffic(model);
        } else {
            manager.setTraffic(model, change.weights(), change.stickyHeader());
        }
        return show(model);
    }

    /**
     * The split of one model: how requests without a version are routed ({@code weighted} or
     * {@code default}), the weights by version number, the sticky header, the default version (where
     * requests go when no weighted version is ready), and per version its weight and its effective
     * weight (0 while it is not ready).
     */
    private static void write(JsonGenerator g, ServedModel served) throws IOException {
        TrafficSplit split = served.traffic();
        NavigableMap<Long, Integer> effective = served.effectiveTraffic();
        g.writeStartObject();
        g.writeStringField("model", served.name());
        g.writeStringField("routing", split == null ? "default" : "weighted");
        g.writeObjectFieldStart(WEIGHTS);
        if (split != null) {
            for (Map.Entry<Long, Integer> e : split.weights().entrySet()) {
                g.writeNumberField(Long.toString(e.getKey()), e.getValue());
            }
        }
        g.writeEndObject();
        if (split != null && split.stickyHeader() != null) {
            g.writeStringField(STICKY_HEADER, split.stickyHeader());
        }
        ServedVersion fallback = served.defaultServed();
        if (fallback.version() > 0) {
            g.writeStringField("default_version", fallback.name());
        }
        g.writeArrayFieldStart("versions");
        for (ServedVersion v : served.versions().values()) {
            g.writeStartObject();
            g.writeStringField("version", Long.toString(v.version()));
            g.writeStringField("name", v.name());
            g.writeBooleanField("ready", v.ready());
            g.writeNumberField("weight", split == null ? 0 : split.weights().getOrDefault(v.version(), 0));
            g.writeNumberField("effective_weight", effective.getOrDefault(v.version(), 0));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
