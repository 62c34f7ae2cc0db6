package dev.torchlight.server.http.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.http.json.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A v2 inference request for a model with a handler: its {@code BYTES} inputs, each element a
 * base64 string (an image file's bytes, say), become the handler's items in order.
 *
 * @param id the request's id, or null
 * @param items the decoded elements
 */
public record V2BytesRequest(String id, List<HandlerItem> items) {
    private static final ObjectMapper MAPPER = new ObjectMapper(Json.FACTORY);

    /** @return the request, or null when the body is not JSON or has no BYTES input */
    public static V2BytesRequest readOrNull(byte[] body) {
        JsonNode root;
        try {
            root = MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
        if (root == null || !root.isObject() || !root.path("inputs").isArray()) {
            return null;
        }
        List<HandlerItem> items = new ArrayList<>();
        boolean bytes = false;
        for (JsonNode input : root.get("inputs")) {
            if (!"BYTES".equalsIgnoreCase(input.path("datatype").asText())) {
                continue;
            }
            bytes = true;
            String name = input.path("name").asText("input");
            collect(input.path("data"), name, items);
        }
        if (!bytes) {
            return null;
        }
        JsonNode id = root.get("id");
        return new V2BytesRequest(id != null && id.isTextual() ? id.textValue() : null, items);
    }

    private static void collect(JsonNode data, String name, List<HandlerItem> items) {
        if (data.isArray()) {
            for (JsonNode element : data) {
                collect(element, name, items);
            }
        } else if (data.isTextual()) {
            String where = "input '" + name + "' element " + items.size();
            items.add(new HandlerItem(name, null, TorchServeItems.base64(data.textValue(), where)));
        } else {
            throw new ServingException.InvalidInput("input '" + name + "' is BYTES: expected its data to be base64"
                    + " strings (one per image), got " + data.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
    }
}
