package dev.torchlight.handler;

import java.util.List;

/**
 * Extracts the items of one request (splits a multipart body, decodes base64); runs on the
 * preprocessing threads, so a front end hands over the raw body and nothing more.
 */
@FunctionalInterface
public interface ItemSource {
    /** @throws dev.torchlight.api.ServingException.InvalidInput when the body is malformed */
    List<HandlerItem> items();
}
