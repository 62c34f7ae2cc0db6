package dev.torchlight.handler;

import java.util.Objects;

/**
 * One thing a client sent for a handler to preprocess: a request body, a form field or file, a
 * base64 value from JSON, or a v2 BYTES element.
 *
 * @param name the form field or input name; {@code body} for a raw request body
 * @param contentType the declared media type, or null when the client declared none
 * @param data the bytes as sent (base64 already decoded); not to be modified
 */
public record HandlerItem(String name, String contentType, byte[] data) {
    public HandlerItem {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
    }
}
