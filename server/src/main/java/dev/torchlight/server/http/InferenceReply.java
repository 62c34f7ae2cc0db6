package dev.torchlight.server.http;

import dev.torchlight.api.InferenceResponse;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;
import java.util.Objects;

/** A reply to an inference request that keeps the response it renders, for the access log. */
public final class InferenceReply implements HttpReply {
    private final InferenceResponse response;
    private final HttpReply body;

    public InferenceReply(InferenceResponse response, HttpReply body) {
        this.response = Objects.requireNonNull(response, "response");
        this.body = Objects.requireNonNull(body, "body");
    }

    public InferenceResponse response() {
        return response;
    }

    @Override
    public FullHttpResponse render(ByteBufAllocator alloc) throws IOException {
        return body.render(alloc);
    }
}
