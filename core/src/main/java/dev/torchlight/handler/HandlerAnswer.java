package dev.torchlight.handler;

import java.util.List;

/**
 * A handler's answer to one request.
 *
 * @param model model name
 * @param version the version that ran
 * @param items one answer per item the client sent, in order (see {@link Handler#postprocess})
 */
public record HandlerAnswer(String model, long version, List<Object> items) {
    public HandlerAnswer {
        items = List.copyOf(items);
    }
}
