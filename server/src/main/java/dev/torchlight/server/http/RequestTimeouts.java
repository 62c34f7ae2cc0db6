package dev.torchlight.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bounds how long a client may take, per connection: to send a request's headers (from its first
 * byte), to send its body (from the end of its headers), and to stay connected doing nothing (from
 * the end of the last response). A slow request gets {@code 408 Request Timeout} and the connection
 * closes; an idle connection just closes. While a request is being served, no client timeout runs
 * (the request's own deadline does). Without this, a client sending one byte a second holds a
 * connection, and its partly read request, for ever.
 *
 * <p>Two handlers share one state: {@link #bytes} sits before the HTTP codec and sees the first byte
 * of a request; {@link #messages} sits after it and sees headers end, bodies end and responses go
 * out. Both run on the connection's event loop, so the state needs no locking.
 */
final class RequestTimeouts {
    /** Connections closed by each timeout, for metrics; shared by the listener's connections. */
    static final class Counts {
        final LongAdder headers = new LongAdder();
        final LongAdder body = new LongAdder();
        final LongAdder idle = new LongAdder();
    }

    private enum Phase { IDLE, HEADERS, BODY, SERVING }

    private final long headerNanos;
    private final long bodyNanos;
    private final long idleNanos;
    private final Counts counts;
    private final StatusCounts statuses;
    private Phase phase = Phase.IDLE;
    /** Requests read in full and not yet answered (pipelining). */
    private int unanswered;
    private static final long NONE = Long.MIN_VALUE;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private long deadline = NONE;

    RequestTimeouts(HttpSettings settings, Counts counts, StatusCounts statuses) {
        this.headerNanos = settings.headerTimeout().toNanos();
        this.bodyNanos = settings.bodyTimeout().toNanos();
        this.idleNanos = settings.idleTimeout().toNanos();
        this.counts = counts;
        this.statuses = statuses;
    }

    /** Goes before the codec: the first byte of a request starts the header timeout. */
    final ChannelInboundHandlerAdapter bytes = new ChannelInboundHandlerAdapter() {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            enter(ctx, Phase.IDLE);
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (phase == Phase.IDLE && msg instanceof ByteBuf b && b.isReadable()) {
                enter(ctx, Phase.HEADERS);
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            cancel();
            super.channelInactive(ctx);
        }
    };

    /** Goes after the codec: headers and bodies that end, responses that go out. */
    final ChannelDuplexHandler messages = new ChannelDuplexHandler() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest && phase != Phase.SERVING) {
                enter(ctx, Phase.BODY);
            }
            if (msg instanceof LastHttpContent) {
                unanswered++;
                enter(ctx, Phase.SERVING);
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (endsAResponse(msg)) {
                promise = promise.unvoid().addListener(f -> answered(ctx));
            }
            super.write(ctx, msg, promise);
        }
    };

    /** Whether writing {@code msg} ends a final response (not "100 Continue"): one request answered. */
    static boolean endsAResponse(Object msg) {
        return msg instanceof LastHttpContent
                && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL);
    }

    private void answered(ChannelHandlerContext ctx) {
        if (unanswered > 0) {
            unanswered--;
        }
        // A pipelined request whose bytes already arrived keeps its own timeout running.
        if (unanswered == 0 && phase == Phase.SERVING && ctx.channel().isActive()) {
            enter(ctx, Phase.IDLE);
        }
    }

    /**
     * Enters {@code next} and its deadline. Requests change phase several times each, so the one timer
     * is rescheduled only when the deadline comes earlier than it fires; a timer that fires before the
     * deadline (which moved later meanwhile) sets itself again.
     */
    private void enter(ChannelHandlerContext ctx, Phase next) {
        phase = next;
        long nanos = switch (next) {
            case IDLE -> idleNanos;
            case HEADERS -> headerNanos;
            case BODY -> bodyNanos;
            case SERVING -> 0;
        };
        deadline = nanos > 0 ? System.nanoTime() + nanos : NONE;
        if (deadline != NONE && (timer == null || deadline - timerAt < 0)) {
            cancel();
            arm(ctx);
        }
    }

    private void arm(ChannelHandlerContext ctx) {
        timerAt = deadline;
        timer = ctx.executor().schedule(() -> fired(ctx), Math.max(0, deadline - System.nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void fired(ChannelHandlerContext ctx) {
        timer = null;
        if (deadline == NONE || !ctx.channel().isActive()) {
            return;
        }
        if (System.nanoTime() - deadline < 0) {
            arm(ctx);
            return;
        }
        switch (phase) {
            case IDLE -> {
                counts.idle.increment();
                ctx.close();
            }
            case HEADERS, BODY -> {
                (phase == Phase.HEADERS ? counts.headers : counts.body).increment();
                if (unanswered > 0) {
                    // An earlier pipelined request still owes its response, which must come first.
                    ctx.close();
                    return;
                }
                statuses.record(HttpResponseStatus.REQUEST_TIMEOUT.code());
                // Written after the codec, whichever handler armed the timer, so that it is encoded.
                ChannelHandlerContext out = ctx.pipeline().context(messages);
                out.writeAndFlush(HttpDispatcher.lastOnConnection(timeout(phase), out.alloc()))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            case SERVING -> { }
        }
    }

    private HttpReply timeout(Phase expired) {
        String what = expired == Phase.HEADERS
                ? "the request's headers did not arrive within " + seconds(headerNanos) + " of its first byte"
                : "the request's body did not arrive within " + seconds(bodyNanos) + " of its headers";
        return JsonReplies.error(HttpResponseStatus.REQUEST_TIMEOUT, what + "; the connection is closed");
    }

    private static String seconds(long nanos) {
        Duration d = Duration.ofNanos(nanos);
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
