package dev.torchlight.bench.load;

import dev.torchlight.bench.http.ConnectListener;
import dev.torchlight.bench.http.Failure;
import dev.torchlight.bench.http.HttpConnection;
import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.http.ResponseListener;
import java.time.Duration;

/**
 * Closed loop: {@code concurrency} connections, each sending its next request as soon as the
 * previous answer arrives. Latency is from send to the end of the answer. As a well-behaved client
 * does, a slot waits after a refusal (503 or 429: the {@code Retry-After} it names, at most
 * {@link #MAX_BACKOFF}, else {@link #RECONNECT_DELAY}) and after a broken connection
 * ({@link #RECONNECT_DELAY}) before it tries again, instead of hammering a server that sheds load.
 */
final class ClosedLoopLevel extends SlotLevel<ClosedLoopLevel.Sender> {
    /** Pause before reconnecting after a failed connect, so a gone server is not hammered in a spin. */
    static final Duration RECONNECT_DELAY = Duration.ofMillis(20);
    /** The longest a slot honours a {@code Retry-After}: a level lasts seconds. */
    static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

    ClosedLoopLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch,
            int concurrency) {
        super(client, requests, protocol, watch, batch, concurrency);
    }

    @Override
    Sender open(int index) {
        Sender sender = new Sender(index);
        sender.connect();
        return sender;
    }

    @Override
    void close(Sender sender) {
        sender.close();
    }

    /** How long to wait after a refusal that said {@code Retry-After: seconds} (-1: it did not). */
    static Duration backoff(int seconds) {
        if (seconds < 0) {
            return RECONNECT_DELAY;
        }
        Duration asked = Duration.ofSeconds(seconds);
        return asked.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : asked;
    }

    /** One slot of the loop: a connection and the request on it. State is touched on its event loop. */
    final class Sender implements ConnectListener, ResponseListener {
        private volatile HttpConnection connection;
        private long sent;
        private long sentAt;
        private boolean measured;

        Sender(int index) {
            // Spread the slots over the distinct bodies so they do not all send the same one.
            this.sent = index;
        }

        void connect() {
            if (stats.running()) {
                client.connect(this);
            }
        }

        void close() {
            HttpConnection c = connection;
            if (c != null) {
                c.close();
            }
        }

        @Override
        public void onConnected(HttpConnection c) {
            watch.alive();
            connection = c;
            if (!stats.running()) {
                c.close();
                return;
            }
            send(c);
        }

        @Override
        public void onConnectFailed(Throwable cause) {
            if (!stats.running()) {
                return;
            }
            watch.connectFailed(cause);
            stats.error(Failure.CONNECT.kind());
            client.schedule(this::connect, RECONNECT_DELAY);
        }

        @Override
        public void onResponse(HttpConnection c, int status, boolean keepAlive) {
            answered(status, System.nanoTime() - sentAt, measured);
            stats.ended();
            Runnable next = keepAlive ? () -> send(c) : this::connect;
            if (status == 503 || status == 429) {
                client.schedule(next, backoff(c.retryAfterSeconds()));
            } else {
                next.run();
            }
        }

        @Override
        public void onFailure(HttpConnection c, Failure failure, Throwable cause) {
            stats.error(failure.kind(), measured);
            stats.ended();
            client.schedule(this::connect, RECONNECT_DELAY);
        }

        private void send(HttpConnection c) {
            if (!c.isOpen()) { // closed while this slot waited out a refusal
                connect();
                return;
            }
            // One read of the phase decides both whether to send and whether the request is measured.
            LevelStats.Phase phase = stats.phase();
            if (phase == LevelStats.Phase.DONE) {
                return;
            }
            measured = phase == LevelStats.Phase.MEASURE;
            stats.sending();
            sentAt = System.nanoTime();
            c.send(requests.get(sent++), this);
        }
    }
}
