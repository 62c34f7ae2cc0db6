package dev.torchlight.server.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;

/**
 * A response not yet encoded. Route handlers return replies; the connection renders them on its
 * event loop with its allocator, so encoding never runs on an inference worker thread.
 */
@FunctionalInterface
public interface HttpReply {

    /** Encodes the response; the caller owns (and eventually writes or releases) the result. */
    FullHttpResponse render(ByteBufAllocator alloc) throws IOException;

    /** The same reply with one more header. */
    default HttpReply withHeader(CharSequence name, Object value) {
        return alloc -> {
            FullHttpResponse response = render(alloc);
            response.headers().set(name, value);
            return response;
        };
    }
}
