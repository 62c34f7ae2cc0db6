package dev.torchlight.server.grpc;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cuts off gRPC clients that are slow to send a request message, as {@code --http-body-timeout} does
 * for HTTP bodies: a call whose client sends one message (unary) must send it whole within the timeout
 * of the call's start, and any call's message, once its first bytes came, must be whole within the
 * timeout of them. Between messages a streaming call may wait as long as it likes (its deadline, if
 * the client set one, still applies). Without this, a call without a deadline that stops sending
 * mid-message keeps its share of the in-flight budget, and its stream, forever.
 *
 * <p>How a call is cut off: the tracer gives each call a cancellable context as its root; cancelling
 * it with DEADLINE_EXCEEDED makes grpc-java cancel the stream (RST_STREAM; the client sees CANCELLED),
 * from the timer's thread, which the transport allows. Its bytes leave the budget as the stream closes.
 */
final class GrpcMessageTimeout extends ServerStreamTracer.Factory {
    private final long timeoutNanos;
    private final ScheduledExecutorService timer;
    private final AtomicLong cutOff = new AtomicLong();

    /**
     * @param timeout how long a message may take to arrive; zero: no limit
     * @param timer where the timeouts fire (a thread of the listener's own)
     */
    GrpcMessageTimeout(Duration timeout, ScheduledExecutorService timer) {
        this.timeoutNanos = timeout.toNanos();
        this.timer = timer;
    }

    /** Calls cut off since start. */
    long cutOff() {
        return cutOff.get();
    }

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return timeoutNanos == 0 ? new ServerStreamTracer() {} : new Watch();
    }

    /** One call's watch over its incoming messages. */
    private final class Watch extends ServerStreamTracer {
        private Context.CancellableContext context;
        private ScheduledFuture<?> pending;
        private boolean closed;

        @Override
        public Context filterContext(Context parent) {
            context = parent.withCancellation();
            return context;
        }

        @Override
        public void serverCallStarted(ServerCallInfo<?, ?> info) {
            if (info.getMethodDescriptor().getType().clientSendsOneMessage()) {
                arm("its request message");
            }
        }

        /** Message bytes as they are read: the first of a message starts its clock. */
        @Override
        public void inboundWireSize(long bytes) {
            if (bytes > 0) {
                arm("the rest of its request message");
            }
        }

        @Override
        public synchronized void inboundMessageRead(int seqNo, long wireSize, long uncompressedSize) {
            disarm();
        }

        @Override
        public synchronized void streamClosed(Status status) {
            closed = true;
            disarm();
            if (context != null) {
                context.cancel(null); // detaches the call's context from it
            }
        }

        private synchronized void arm(String what) {
            if (closed || pending != null || context == null) {
                return;
            }
            try {
                pending = timer.schedule(() -> fire(what), timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // The listener is closing: its own drain bounds the call.
            }
        }

        private synchronized void disarm() {
            if (pending != null) {
                pending.cancel(false);
                pending = null;
            }
        }

        private void fire(String what) {
            synchronized (this) {
                if (closed || pending == null) {
                    return; // the message came, or the call ended, as the timer fired
                }
                pending = null;
            }
            cutOff.incrementAndGet();
            context.cancel(Status.DEADLINE_EXCEEDED
                    .withDescription("the client did not send " + what + " within "
                            + Duration.ofNanos(timeoutNanos) + " (--http-body-timeout)")
                    .asRuntimeException());
        }
    }
}
