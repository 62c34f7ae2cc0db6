package dev.torchlight.server.grpc;

import io.netty.handler.codec.http2.Http2Exception;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps what clients do to their own gRPC streams and connections out of the log. grpc-java's
 * transport logs every stream a client resets before its answer is written ("Stream closed before
 * write could take place"), and every connection it breaks, as a multi-line WARNING with a stack
 * trace: a client opening and abandoning thousands of streams wrote megabytes of them. This filter,
 * installed on that logger, counts such records instead ({@link #count()}, exported as
 * {@code torchlight_transport_errors_total{protocol="grpc"}}) and writes one line without a stack
 * trace at most every {@link #SUMMARY_NANOS}, saying how many there were. Records about anything else
 * pass as before.
 */
final class GrpcClientErrors implements Filter {
    /** The logger of grpc-java's Netty server transport. */
    static final String TRANSPORT_LOGGER = "io.grpc.netty.NettyServerHandler";
    static final long SUMMARY_NANOS = 10_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(GrpcClientErrors.class);

    // A strong reference: java.util.logging forgets a logger, and the filter with it, once unreferenced.
    private final java.util.logging.Logger transport = java.util.logging.Logger.getLogger(TRANSPORT_LOGGER);
    private final LongSupplier clock;
    private final LongAdder count = new LongAdder();
    private final AtomicLong unreported = new AtomicLong();
    private final AtomicLong lastSummary;
    private Filter previous;

    GrpcClientErrors(LongSupplier clock) {
        this.clock = clock;
        this.lastSummary = new AtomicLong(clock.getAsLong() - SUMMARY_NANOS);
    }

    /** Starts filtering the transport's records. */
    synchronized void install() {
        previous = transport.getFilter();
        transport.setFilter(this);
    }

    /** Stops filtering, if this is still the transport's filter. */
    synchronized void uninstall() {
        if (transport.getFilter() == this) {
            transport.setFilter(previous);
        }
    }

    /** Client-caused transport errors counted since start. */
    long count() {
        return count.sum();
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        if (!clientCaused(record)) {
            Filter next = previous;
            return next == null || next.isLoggable(record);
        }
        count.increment();
        long pending = unreported.incrementAndGet();
        long now = clock.getAsLong();
        long last = lastSummary.get();
        if (now - last >= SUMMARY_NANOS && lastSummary.compareAndSet(last, now)) {
            unreported.addAndGet(-pending);
            LOG.info("gRPC clients reset or dropped {} stream(s) or connection(s) since the last such line (last: {});"
                    + " counted in torchlight_transport_errors_total{{protocol=\"grpc\"}}", pending,
                    record.getThrown() != null ? record.getThrown().getMessage() : record.getMessage());
        }
        return false;
    }

    /** Stream and connection errors of HTTP/2 and I/O failures: what a client's resets and drops produce. */
    static boolean clientCaused(LogRecord record) {
        Throwable thrown = record.getThrown();
        return thrown instanceof Http2Exception || thrown instanceof IOException;
    }
}
