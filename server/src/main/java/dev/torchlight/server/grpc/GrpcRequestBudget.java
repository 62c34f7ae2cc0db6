package dev.torchlight.server.grpc;

import dev.torchlight.api.ServingException;
import dev.torchlight.server.transport.ByteBudget;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Holds the request messages the gRPC listener keeps in memory to the in-flight budget
 * ({@code --max-inflight-bytes}, shared with the HTTP inference listener). A call's message bytes are
 * reserved as they arrive, before the message is whole, and given back when the call ends: its
 * response sent, the call cancelled or its connection gone. A {@code ModelStreamInfer} call, which may
 * last for many messages, gives back each message's bytes once that message is answered
 * ({@link CallBytes#claim()}, {@link CallBytes#release(long)}).
 *
 * <p>A message that does not fit fails its call with UNAVAILABLE, the status of an overloaded server
 * that gRPC clients retry with backoff, and a message naming the setting; the rest of it is not read.
 * grpc-java logs such a failure as a WARNING with a stack trace per call; that record is dropped
 * ({@link #install()}), as a 503 for the same reason is not logged on HTTP.
 */
final class GrpcRequestBudget extends ServerStreamTracer.Factory implements Filter {
    /** The logger grpc-java reports a failed incoming message on. */
    static final String STREAM_LOGGER = "io.grpc.netty.NettyServerStream";
    private static final Context.Key<CallBytes> CALL = Context.key("torchlight-call-bytes");

    private final ByteBudget budget;
    // A strong reference: java.util.logging forgets a logger, and the filter with it, once unreferenced.
    private final Logger streamLog = Logger.getLogger(STREAM_LOGGER);
    private Filter previous;

    /** @param budget what the listener's calls may hold (a share of a budget HTTP draws on too, or its own) */
    GrpcRequestBudget(ByteBudget budget) {
        this.budget = budget;
    }

    /** Request bytes the listener's calls hold now. */
    long used() {
        return budget.used();
    }

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new CallBytes();
    }

    /** The current call's request bytes; null outside a call. */
    static CallBytes current() {
        return CALL.get();
    }

    /** Stops grpc-java logging the calls this budget refuses. */
    synchronized void install() {
        previous = streamLog.getFilter();
        streamLog.setFilter(this);
    }

    /** Logs them again, if this is still the logger's filter. */
    synchronized void uninstall() {
        if (streamLog.getFilter() == this) {
            streamLog.setFilter(previous);
        }
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        if (record.getThrown() instanceof OverBudget) {
            return false;
        }
        Filter next = previous;
        return next == null || next.isLoggable(record);
    }

    /** The failure of a call whose message does not fit: UNAVAILABLE, as the one error mapping says. */
    static final class OverBudget extends StatusRuntimeException {
        private static final long serialVersionUID = 1L;

        OverBudget(long capacity) {
            super(GrpcErrorMapper.status(new ServingException.Overloaded("the server holds " + capacity
                    + " bytes of requests at most (--max-inflight-bytes) and has no room for this message now;"
                    + " retry")));
        }
    }

    /** One call's reservations, counted by grpc-java as the call's message bytes arrive. */
    final class CallBytes extends ServerStreamTracer {
        private long held;
        private long unclaimed;
        private boolean closed;

        @Override
        public Context filterContext(Context context) {
            return context.withValue(CALL, this);
        }

        /** Message bytes as they are read (compressed, as sent); throwing here fails the call. */
        @Override
        public synchronized void inboundWireSize(long bytes) {
            if (closed || bytes <= 0) {
                return;
            }
            if (!budget.tryReserve(bytes)) {
                throw new OverBudget(budget.capacity());
            }
            held += bytes;
            unclaimed += bytes;
        }

        /**
         * The bytes held for the messages received since the last claim (for a streaming call, the
         * message just delivered), which the caller gives back with {@link #release(long)} once it has
         * answered that message.
         */
        synchronized long claim() {
            long bytes = unclaimed;
            unclaimed = 0;
            return bytes;
        }

        /** Gives back bytes {@link #claim()}ed earlier; nothing once the call has ended (all were given back then). */
        synchronized void release(long bytes) {
            if (closed) {
                return;
            }
            long given = Math.min(bytes, held);
            held -= given;
            budget.release(given);
        }

        @Override
        public synchronized void streamClosed(Status status) {
            closed = true;
            budget.release(held);
            held = 0;
            unclaimed = 0;
        }
    }
}
