package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.result.LevelResult;

/**
 * One level of a sweep as it runs: it starts sending on {@link #start()}, counts into
 * {@link #stats()}, and stops on {@link #stop()}. {@link LoadBench} drives the phases.
 */
abstract class LoadLevel {
    final HttpLoadClient client;
    final RequestPool requests;
    final Protocol protocol;
    final ServerWatch watch;
    final LevelStats stats = new LevelStats();
    final int batch;

    LoadLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch) {
        this.client = client;
        this.requests = requests;
        this.protocol = protocol;
        this.watch = watch;
        this.batch = batch;
    }

    LevelStats stats() {
        return stats;
    }

    /** Short name for progress lines, e.g. {@code c=8} or {@code rate=500/s}. */
    abstract String label();

    /** Begins sending (the warm-up begins). */
    abstract void start();

    /** Stops sending new requests; called after the stats are finished. */
    abstract void stop();

    /** Whether nothing waits to be sent apart from what {@link LevelStats#inFlight()} counts. */
    boolean idle() {
        return true;
    }

    /** Closes every connection. */
    abstract void closeConnections();

    /** The measured window's result. */
    abstract LevelResult result();

    /** Counts a finished request's answer: a success with its latency, or an error by its kind. */
    final void answered(int status, long latencyNanos, boolean measured) {
        watch.alive();
        String error = protocol.judge(status);
        if (error == null) {
            stats.success(latencyNanos, measured);
        } else {
            stats.error(error, measured);
        }
    }
}
