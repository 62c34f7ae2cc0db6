package dev.torchlight.server.http.torchserve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.http.json.Json;
import dev.torchlight.server.inference.Base64Payload;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.io.IOException;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Splits a TorchServe {@code /predictions} body into handler items, the ways TorchServe's clients
 * send them: the raw file (any content type but JSON and forms, e.g. {@code curl -T kitten.jpg}
 * or {@code --data-binary @kitten.jpg -H "Content-Type: image/jpeg"}), a multipart form
 * ({@code curl -F data=@kitten.jpg}; every field and file is one item, in order), or JSON with
 * base64: {@code {"data": "..."}} (also {@code body}, {@code image} or {@code b64}),
 * {@code {"instances": [...]}} or a top-level array of such values, each one item.
 *
 * <p>Public only for {@link #extract}, the reader of untrusted bodies the fuzz targets call.
 */
public final class TorchServeItems {
    private static final ObjectMapper MAPPER = new ObjectMapper(Json.FACTORY);
    private static final List<String> BASE64_FIELDS = List.of("data", "body", "image", "b64");

    private TorchServeItems() {}

    /**
     * The items of one request body.
     *
     * @param body the whole request body
     * @param contentType the request's Content-Type header, or null
     * @throws ServingException.InvalidInput when the body cannot be read as its content type says
     */
    public static List<HandlerItem> extract(byte[] body, String contentType) {
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).strip();
        if (type.startsWith("application/x-www-form-urlencoded") && startsLikeAnImage(body)) {
            // curl --data-binary @cat.jpg without -H declares a form; the bytes say otherwise.
            return List.of(new HandlerItem("body", null, body));
        }
        if (type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded")) {
            return form(body, contentType);
        }
        if (type.startsWith("application/json")) {
            return json(body);
        }
        if (body.length == 0) {
            throw new ServingException.InvalidInput("the request body is empty; expected an image (send the file as"
                    + " the body, as a multipart form field 'data', or base64 in JSON {\"data\": ...})");
        }
        return List.of(new HandlerItem("body", contentType, body));
    }

    /** JPEG (FF D8 FF) or PNG (89 'PNG') magic bytes, which no form body starts with. */
    static boolean startsLikeAnImage(byte[] b) {
        return b.length >= 4 && ((b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF
                || (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G');
    }

    private static List<HandlerItem> form(byte[] body, String contentType) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/",
                Unpooled.wrappedBuffer(body));
        try {
            try {
                request.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            } catch (IllegalArgumentException e) {
                // Netty validates the value again; a caller other than the server's decoder may not have.
                throw new ServingException.InvalidInput("the Content-Type header has a character no header value"
                        + " may carry (a control character); expected e.g. multipart/form-data; boundary=...");
            }
            HttpPostRequestDecoder decoder;
            try {
                decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), request);
            } catch (UnsupportedCharsetException e) {
                // The decoder wraps a malformed charset name, not a well-formed one the JDK does not know.
                throw new ServingException.InvalidInput("the Content-Type's charset '" + e.getCharsetName()
                        + "' is not one this server knows; expected UTF-8 or no charset");
            } catch (RuntimeException e) {
                throw invalidForm(e);
            }
            try {
                return items(decoder);
            } finally {
                decoder.destroy();
            }
        } finally {
            request.release();
        }
    }

    private static List<HandlerItem> items(HttpPostRequestDecoder decoder) {
        List<HandlerItem> items = new ArrayList<>();
        try {
            for (InterfaceHttpData data : decoder.getBodyHttpDatas()) {
                switch (data) {
                    case FileUpload file -> items.add(new HandlerItem(file.getName(), file.getContentType(), file.get()));
                    case Attribute field -> items.add(new HandlerItem(field.getName(), null, field.get()));
                    default -> { }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw invalidForm(e);
        }
        return items;
    }

    /**
     * Netty's decoder throws more than its DecoderException on a malformed body (an
     * ArrayIndexOutOfBoundsException for a Content-Disposition parameter without '='), so any
     * exception from it is the body's fault; the message names the decoder's complaint when it has one.
     */
    private static ServingException.InvalidInput invalidForm(Exception e) {
        String why = e instanceof DecoderException || e instanceof IOException ? ": " + e.getMessage()
                : ": it is malformed (the decoder failed with " + e.getClass().getSimpleName() + ")";
        return new ServingException.InvalidInput("the form body cannot be read" + why
                + "; expected multipart/form-data such as curl -F data=@image.jpg sends");
    }

    private static List<HandlerItem> json(byte[] body) {
        JsonNode root;
        try {
            root = MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ServingException.InvalidInput(Json.describe(e));
        }
        if (root == null || root.isMissingNode()) {
            throw new ServingException.InvalidInput("the JSON body is empty; expected {\"data\": \"<base64 image>\"}");
        }
        JsonNode list = root.isObject() && root.has("instances") ? root.get("instances") : root;
        List<HandlerItem> items = new ArrayList<>();
        if (list.isArray()) {
            for (int i = 0; i < list.size(); i++) {
                items.add(item(list.get(i), "instances[" + i + "]"));
            }
        } else {
            items.add(item(list, "body"));
        }
        return items;
    }

    private static HandlerItem item(JsonNode node, String where) {
        JsonNode value = node;
        if (node.isObject()) {
            value = null;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext();) {
                Map.Entry<String, JsonNode> field = it.next();
                if (BASE64_FIELDS.contains(field.getKey())) {
                    value = field.getValue();
                    break;
                }
            }
        }
        if (value == null || !value.isTextual()) {
            throw new ServingException.InvalidInput(where + ": expected a base64 string, or an object with one in "
                    + "'data' (or " + BASE64_FIELDS.subList(1, BASE64_FIELDS.size()) + ")");
        }
        return new HandlerItem(where, null, Base64Payload.decode(value.textValue(), where));
    }
}
