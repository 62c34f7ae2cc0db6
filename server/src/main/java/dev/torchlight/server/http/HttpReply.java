package dev.torchlight.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;

/**
 * A response not yet encoded. Route handlers return replies; the connection renders them on its
 * event loop with its allocator, so encoding never runs on an inference worker thread.
 */
@FunctionalInterface
public interface HttpReply {

    /** Encodes the response; the caller owns (and eventually writes or releases) the result. */
    FullHttpResponse render(ByteBufAllocator alloc) throws IOException;

    /**
     * An HTTP/1.1 response of {@code content} without trailing headers: the server's answers carry a
     * length, never trailers, and leaving them out saves a header table per response.
     */
    static FullHttpResponse response(HttpResponseStatus status, ByteBuf content) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content,
                DefaultHttpHeadersFactory.headersFactory().newHeaders(), EmptyHttpHeaders.INSTANCE);
    }

    /** The same reply with one more header. */
    default HttpReply withHeader(CharSequence name, Object value) {
        return alloc -> {
            FullHttpResponse response = render(alloc);
            response.headers().set(name, value);
            return response;
        };
    }
}
