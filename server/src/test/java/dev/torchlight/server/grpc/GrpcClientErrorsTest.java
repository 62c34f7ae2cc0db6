package dev.torchlight.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GrpcClientErrorsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final GrpcClientErrors errors = new GrpcClientErrors(clock::get);
    private final Logger transport = Logger.getLogger(GrpcClientErrors.TRANSPORT_LOGGER);

    @BeforeEach
    void install() {
        errors.install();
    }

    @AfterEach
    void uninstall() {
        errors.uninstall();
    }

    @Test
    void thousandsOfResetStreamsAreCountedNotLogged() {
        for (int i = 0; i < 2_000; i++) {
            LogRecord r = new LogRecord(Level.WARNING, "Stream Error");
            r.setThrown(Http2Exception.streamError(i, Http2Error.STREAM_CLOSED,
                    "Stream closed before write could take place"));
            assertThat(transport.getFilter().isLoggable(r)).isFalse();
        }
        LogRecord dropped = new LogRecord(Level.WARNING, "Connection Error");
        dropped.setThrown(new IOException("Connection reset by peer"));
        assertThat(transport.getFilter().isLoggable(dropped)).isFalse();
        assertThat(errors.count()).isEqualTo(2_001);
    }

    @Test
    void otherRecordsStillPass() {
        LogRecord bug = new LogRecord(Level.SEVERE, "Exception while executing runnable");
        bug.setThrown(new IllegalStateException("a bug"));
        assertThat(transport.getFilter().isLoggable(bug)).isTrue();
        assertThat(transport.getFilter().isLoggable(new LogRecord(Level.INFO, "plain"))).isTrue();
        assertThat(errors.count()).isZero();
    }

    @Test
    void uninstallRestoresThePreviousFilter() {
        errors.uninstall();
        assertThat(transport.getFilter()).isNotSameAs(errors);
        GrpcClientErrors second = new GrpcClientErrors(clock::get);
        second.install();
        assertThat(transport.getFilter()).isSameAs(second);
        second.uninstall();
        errors.install();
    }
}
