package dev.torchlight.server.http;

import dev.torchlight.api.BatchedCompletion;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.server.access.AccessEntry;
import dev.torchlight.server.access.AccessLog;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one connection, one request at a time. Requests decoded while another is being served
 * wait here in arrival order, so pipelined requests are answered in order and a slow model holds
 * back that connection alone. The channel reads on its own (asking for each read would cost two
 * system calls per request to switch the socket's read interest on and off); only when a client
 * has {@value #MAX_QUEUED} requests waiting does this handler stop reading, so that a client that
 * keeps sending is held back by TCP, and it reads again once it has caught up. (Netty's
 * FlowControlHandler would do the queueing, but in 4.2 it forgets a read() asked for while a read
 * cycle is still running.) Inference completes on a worker thread; the reply is rendered and
 * written on the channel's event loop.
 */
final class HttpDispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpDispatcher.class);
    /** Pipelined requests a connection may have waiting before reading pauses. */
    static final int MAX_QUEUED = 16;

    private final HttpRoutes router;
    private final InFlightRequests inFlight;
    private final AccessLog accessLog;
    private final StatusCounts statuses;
    private final LongAdder transportErrors;
    /** Decoded requests not yet served (FullHttpRequest or OversizedRequest). */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    /** A request is being served: its response has not been written yet. */
    private boolean busy;
    /** Set once the connection is to be closed: later requests are dropped unanswered. */
    private boolean closing;
    /** {@link #next} is running; a nested call only asks it to go round again. */
    private boolean dispatching;
    private boolean again;
    /** This connection's event loop, joining an engine batch's completions; made at the first reply. */
    private Executor replies;

    HttpDispatcher(HttpRoutes router, InFlightRequests inFlight) {
        this(router, inFlight, AccessLog.OFF, new StatusCounts());
    }

    HttpDispatcher(HttpRoutes router, InFlightRequests inFlight, AccessLog accessLog, StatusCounts statuses) {
        this(router, inFlight, accessLog, statuses, new LongAdder());
    }

    /** @param transportErrors counts connections closed for what the client did (resets, malformed bytes) */
    HttpDispatcher(HttpRoutes router, InFlightRequests inFlight, AccessLog accessLog, StatusCounts statuses,
            LongAdder transportErrors) {
        this.transportErrors = transportErrors;
        this.router = router;
        this.inFlight = inFlight;
        this.accessLog = accessLog;
        this.statuses = statuses;
    }

    /** What the access log needs from a request before its body is released; only made when logging. */
    private record Arrival(long nanos, String method, String uri, int bytesIn) {}

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        waiting.add(msg);
        if (waiting.size() >= MAX_QUEUED) {
            ctx.channel().config().setAutoRead(false);
        }
        if (!busy) {
            next(ctx);
        }
    }

    /** Serves queued requests while replies complete synchronously; resumes reading when none are left. */
    private void next(ChannelHandlerContext ctx) {
        if (dispatching) {
            again = true; // a reply written from inside the loop below: let the loop continue
            return;
        }
        dispatching = true;
        try {
            do {
                again = false;
                if (busy || closing) {
                    return;
                }
                Object msg = waiting.poll();
                if (msg == null) {
                    if (!ctx.channel().config().isAutoRead()) {
                        ctx.channel().config().setAutoRead(true);
                    }
                    return;
                }
                dispatch(ctx, msg);
            } while (again);
        } finally {
            dispatching = false;
        }
    }

    private void dispatch(ChannelHandlerContext ctx, Object msg) {
        busy = true;
        switch (msg) {
            case FullHttpRequest request -> serve(ctx, request);
            case OversizedRequest oversized -> {
                closing = true;
                write(ctx, tooLarge(oversized.limit()), false, false);
            }
            default -> {
                // Nothing else is decoded in this pipeline; never leave the connection stalled.
                ReferenceCountUtil.release(msg);
                busy = false;
                again = true;
            }
        }
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            request.release();
            closing = true; // the decoder cannot find the next request's start reliably
            write(ctx, malformed(decoded.cause()), false, false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean http10 = !request.protocolVersion().isKeepAliveDefault();
        if (!keepAlive) {
            closing = true;
        }
        if (!inFlight.tryEnter()) {
            request.release();
            closing = true;
            write(ctx, JsonReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the server is shutting down"),
                    false, false);
            return;
        }
        Arrival arrival = accessLog.enabled() ? new Arrival(System.nanoTime(), request.method().name(),
                request.uri(), request.content().readableBytes()) : null;
        CompletableFuture<HttpReply> reply = route(request);
        if (reply.isDone()) {
            complete(ctx, reply, keepAlive, http10, arrival);
        } else {
            // Deferring: the replies of one engine batch reach this event loop as one task.
            if (replies == null) {
                replies = BatchedCompletion.deferring(ctx.executor());
            }
            reply.whenCompleteAsync((r, e) -> complete(ctx, reply, keepAlive, http10, arrival), replies);
        }
    }

    private CompletableFuture<HttpReply> route(FullHttpRequest request) {
        try {
            return router.route(request);
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        } finally {
            // Handlers copy what they keep out of the body before returning.
            request.release();
        }
    }

    private void complete(ChannelHandlerContext ctx, CompletableFuture<HttpReply> reply, boolean keepAlive,
            boolean http10, Arrival arrival) {
        HttpReply r;
        try {
            r = reply.join();
        } catch (Throwable t) {
            r = HttpErrorMapper.reply(t);
        }
        FullHttpResponse response = render(r, ctx.alloc());
        if (arrival != null) {
            log(arrival, r, response);
        }
        if (keepAlive && http10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        write(ctx, response, keepAlive, true);
    }

    private void write(ChannelHandlerContext ctx, HttpReply reply, boolean keepAlive, boolean counted) {
        write(ctx, render(reply, ctx.alloc()), keepAlive, counted);
    }

    private void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, boolean counted) {
        statuses.record(response.status().code());
        HttpUtil.setContentLength(response, response.content().readableBytes());
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(response).addListener(f -> {
            if (counted) {
                inFlight.exit();
            }
            busy = false;
            if (!f.isSuccess()) {
                log.debug("could not write a response", f.cause());
                ctx.close();
            } else if (keepAlive) {
                next(ctx);
            } else {
                releaseWaiting();
                Connections.lingerAndClose(ctx.channel());
            }
        });
    }

    private void log(Arrival arrival, HttpReply reply, FullHttpResponse response) {
        InferenceResponse answered = reply instanceof InferenceReply inference ? inference.response() : null;
        accessLog.record(new AccessEntry(System.currentTimeMillis(), arrival.method(), arrival.uri(),
                answered == null ? null : answered.model(), answered == null ? 0 : answered.version(),
                response.status().code(), answered == null ? 0 : answered.rows(),
                answered == null ? 0 : answered.queueNanos(), answered == null ? 0 : answered.computeNanos(),
                System.nanoTime() - arrival.nanos(), arrival.bytesIn(), response.content().readableBytes()));
    }

    /** Renders {@code reply}; a reply that fails to render becomes a 500, which cannot fail. */
    private static FullHttpResponse render(HttpReply reply, ByteBufAllocator alloc) {
        try {
            return reply.render(alloc);
        } catch (Throwable t) {
            try {
                return HttpErrorMapper.reply(t).render(alloc);
            } catch (IOException | RuntimeException e) {
                log.error("could not render an error reply", e);
                return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.INTERNAL_SERVER_ERROR);
            }
        }
    }

    static HttpReply tooLarge(int limit) {
        return JsonReplies.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "request body is larger than the limit of " + limit + " bytes");
    }

    static FullHttpResponse tooLarge(int limit, ByteBufAllocator alloc) {
        return render(tooLarge(limit), alloc);
    }

    /**
     * Renders {@code reply} as the last response on its connection, for the handlers that answer a
     * request before it reaches the dispatcher (too large, too slow, over the body budget) and close.
     */
    static FullHttpResponse lastOnConnection(HttpReply reply, ByteBufAllocator alloc) {
        FullHttpResponse response = render(reply, alloc);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setContentLength(response, response.content().readableBytes());
        return response;
    }

    private static HttpReply malformed(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return JsonReplies.error(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line is too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return JsonReplies.error(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers are too large");
        }
        String detail = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return JsonReplies.error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request" + detail);
    }

    private void releaseWaiting() {
        Object msg;
        while ((msg = waiting.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and decoder overflows land here; none of them is worth more than a debug line.
        log.debug("closing connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        transportErrors.increment();
        ctx.close();
    }
}
