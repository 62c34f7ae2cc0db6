package dev.torchlight.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Aggregates a request body up to the limit. A declared Content-Length over the limit is refused
 * from the headers alone, a chunked body as soon as it crosses the limit; the rest of the body is
 * discarded, never buffered. The refusal is handed to {@link HttpDispatcher} as an
 * {@link OversizedRequest} so that it keeps its place among pipelined responses.
 */
final class RequestSizeLimiter extends HttpObjectAggregator {

    RequestSizeLimiter(int maxRequestSize) {
        // closeOnExpectationFailed: a refused "Expect: 100-continue" closes the connection.
        super(maxRequestSize, true);
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse netty
                && netty.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            // Netty's own 413 has an empty body; send ours, which names the limit.
            netty.release();
            return HttpDispatcher.lastOnConnection(HttpDispatcher.tooLarge(maxContentLength),
                    pipeline.channel().alloc());
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (oversized instanceof HttpRequest request) {
            ctx.fireChannelRead(new OversizedRequest(request.protocolVersion(), maxContentLength()));
        } else {
            super.handleOversizedMessage(ctx, oversized);
        }
    }
}
