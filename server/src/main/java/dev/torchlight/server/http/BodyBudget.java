package dev.torchlight.server.http;

import dev.torchlight.server.transport.ByteBudget;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Holds the request bodies one HTTP listener keeps in memory, over all its connections, to a budget
 * ({@code --max-inflight-bytes}, which the inference listener shares with gRPC): a body is counted
 * from its headers (its declared length) or as its chunks arrive, until its response is written. A
 * request that would go over the budget is answered {@code 503} with {@code Retry-After} and its
 * connection closes, before its body is read; so memory under a flood of large bodies is bounded by
 * configuration, not by the number of connections times {@code --max-request-size}.
 */
final class BodyBudget {
    private final ByteBudget budget;
    private final long maxRequestSize;
    private final StatusCounts statuses;

    /** @param budget what this listener may hold (a share of a budget other listeners draw on too, or its own) */
    BodyBudget(ByteBudget budget, long maxRequestSize, StatusCounts statuses) {
        this.budget = budget;
        this.maxRequestSize = maxRequestSize;
        this.statuses = statuses;
    }

    /** Body bytes held now. */
    long used() {
        return budget.used();
    }

    private boolean reserve(long bytes) {
        return budget.tryReserve(bytes);
    }

    private void release(long bytes) {
        budget.release(bytes);
    }

    /** A handler for one connection; it goes after the HTTP codec. */
    ChannelDuplexHandler newHandler() {
        return new ConnectionBodies();
    }

    /** One connection's reservations: the body being read, and those read but not yet answered. */
    private final class ConnectionBodies extends ChannelDuplexHandler {
        private final ArrayDeque<Long> answering = new ArrayDeque<>();
        private long reading;
        private boolean declared;
        private boolean refused;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (refused) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpRequest request) {
                long length = declaredLength(request);
                declared = length >= 0;
                if (declared && !take(Math.min(length, maxRequestSize))) {
                    refuse(ctx, msg);
                    return;
                }
            }
            if (!declared && msg instanceof HttpContent content && !take(content.content().readableBytes())) {
                refuse(ctx, msg);
                return;
            }
            if (msg instanceof LastHttpContent) {
                answering.add(reading);
                reading = 0;
                declared = false;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (RequestTimeouts.endsAResponse(msg)) {
                Long bytes = answering.poll();
                if (bytes != null) {
                    release(bytes);
                }
            }
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            release(reading);
            reading = 0;
            for (Long bytes : answering) {
                release(bytes);
            }
            answering.clear();
            super.channelInactive(ctx);
        }

        /** The declared body length; -1 for none, or for a request the decoder could not read (answered 400 later). */
        private static long declaredLength(HttpRequest request) {
            if (!request.decoderResult().isSuccess()) {
                return -1;
            }
            try {
                return HttpUtil.getContentLength(request, -1L);
            } catch (NumberFormatException malformed) {
                return -1;
            }
        }

        private boolean take(long bytes) {
            if (!reserve(bytes)) {
                return false;
            }
            reading += bytes;
            return true;
        }

        private void refuse(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            refused = true;
            release(reading);
            reading = 0;
            if (!answering.isEmpty()) {
                // An earlier pipelined request still owes its response, which must come first.
                ctx.close();
                return;
            }
            statuses.record(HttpResponseStatus.SERVICE_UNAVAILABLE.code());
            ctx.writeAndFlush(HttpDispatcher.lastOnConnection(overBudget(), ctx.alloc()))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        private HttpReply overBudget() {
            return JsonReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the server holds " + budget.capacity()
                    + " bytes of request bodies at most (--max-inflight-bytes) and has no room for this one now;"
                    + " retry").withHeader(HttpHeaderNames.RETRY_AFTER, HttpErrorMapper.RETRY_AFTER_SECONDS);
        }
    }
}
