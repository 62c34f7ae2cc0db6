package dev.torchlight.bench.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One keep-alive HTTP/1.1 connection with at most one request in flight. Answers are read only
 * as far as status and end of body ({@link ResponseParser}); the body bytes are dropped unread,
 * because the load generator judges answers by status and must cost far less than the server
 * it measures.
 */
public final class HttpConnection extends ChannelInboundHandlerAdapter {
    private final Channel channel;
    private final long timeoutNanos;
    private final ResponseParser parser = new ResponseParser();

    // Touched only on the channel's event loop.
    private ResponseListener listener;
    private long sentAt;
    private ScheduledFuture<?> timeoutCheck;

    HttpConnection(Channel channel, long timeoutNanos) {
        this.channel = channel;
        this.timeoutNanos = timeoutNanos;
    }

    /**
     * Sends a request; {@code listener} hears the outcome on this connection's event loop. May be
     * called from any thread, but only while no other request is in flight here.
     *
     * @throws IllegalStateException when a request is already in flight
     */
    public void send(PreparedRequest request, ResponseListener listener) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> send(request, listener));
            return;
        }
        if (this.listener != null) {
            throw new IllegalStateException("a request is already in flight on " + channel);
        }
        if (!channel.isActive()) {
            listener.onFailure(this, Failure.CLOSED, null);
            return;
        }
        this.listener = listener;
        this.sentAt = System.nanoTime();
        channel.writeAndFlush(request.retainedBytes(), channel.voidPromise());
    }

    /**
     * The last answer's {@code Retry-After} in seconds, -1 when it had none; read in
     * {@link ResponseListener#onResponse}, on this connection's event loop.
     */
    public int retryAfterSeconds() {
        return parser.retryAfterSeconds();
    }

    /** True while the connection is open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    /** Closes the connection; a request in flight fails as {@link Failure#CLOSED}. */
    public void close() {
        channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // One periodic check per connection instead of a timer per request: a timeout fires
        // up to a tenth of the timeout (at most 100 ms) late, and the hot path sets no timers.
        long period = Math.clamp(timeoutNanos / 10, TimeUnit.MILLISECONDS.toNanos(1),
                TimeUnit.MILLISECONDS.toNanos(100));
        timeoutCheck = ctx.executor().scheduleAtFixedRate(this::checkTimeout, period, period, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            while (in.isReadable() && channel.isActive()) {
                if (!parser.parse(in)) {
                    break;
                }
                answered(parser.status(), parser.keepAlive());
            }
        } catch (ResponseParser.BadResponseException e) {
            fail(Failure.BAD_RESPONSE, e);
            channel.close();
        } finally {
            in.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeoutCheck != null) {
            timeoutCheck.cancel(false);
        }
        if (parser.endOfInput()) {
            answered(parser.status(), false); // a body delimited by the close
        } else {
            fail(Failure.CLOSED, null);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Write errors and resets: closing turns them into CLOSED for the request in flight.
        fail(Failure.CLOSED, cause);
        ctx.close();
    }

    private void checkTimeout() {
        if (listener != null && System.nanoTime() - sentAt >= timeoutNanos) {
            fail(Failure.TIMEOUT, null);
            // A late answer would be taken for the next request's: this connection is done.
            channel.close();
        }
    }

    private void answered(int status, boolean keepAlive) {
        ResponseListener l = listener;
        listener = null;
        if (!keepAlive) {
            channel.close();
        }
        if (l != null) { // null: an answer nobody waits for, e.g. one that came after a timeout
            l.onResponse(this, status, keepAlive);
        }
    }

    private void fail(Failure failure, Throwable cause) {
        ResponseListener l = listener;
        listener = null;
        if (l != null) {
            l.onFailure(this, failure, cause);
        }
    }

    @Override
    public String toString() {
        return "HttpConnection" + channel;
    }
}
