package dev.torchlight.server.lifecycle;

import dev.torchlight.embedded.Torchlight;
import dev.torchlight.server.management.ManagementRouter;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The order in which a server stops, within its grace period: readiness turns false first (so a
 * load balancer stops routing), the listeners stop accepting connections, every request already
 * accepted is answered (new requests on open connections get 503), the repository poller and
 * management thread stop, and only then is the runtime closed: its models drained and released.
 * Runs once; later calls return at once.
 */
public final class GracefulShutdown implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);

    private final Torchlight runtime;
    private final List<Listener> listeners;
    private final ManagementRouter management;
    private final Duration grace;
    private boolean done;

    /** @param runtime the models the listeners serve, closed last */
    public GracefulShutdown(Torchlight runtime, List<Listener> listeners, ManagementRouter management,
            Duration grace) {
        this.runtime = runtime;
        this.listeners = List.copyOf(listeners);
        this.management = management;
        this.grace = grace;
    }

    @Override
    public synchronized void run() {
        if (done) {
            return;
        }
        done = true;
        long start = System.nanoTime();
        long deadline = start + grace.toNanos();
        runtime.beginShutdown();
        listeners.forEach(Listener::stopAccepting);
        runtime.stopWatching();
        boolean answered = true;
        for (Listener listener : listeners) {
            answered &= listener.close(Math.max(0, deadline - System.nanoTime()));
        }
        management.close();
        runtime.close();
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (answered) {
            LOG.info("stopped in {} ms; every accepted request was answered", ms);
        } else {
            LOG.warn("stopped in {} ms; requests still running after the {} ms grace were cut off", ms, grace.toMillis());
        }
    }
}
