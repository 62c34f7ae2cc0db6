package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.result.LevelResult;
import java.util.ArrayList;
import java.util.List;

/**
 * A closed-loop level: {@code concurrency} slots, each with one request in flight, sending the next
 * as soon as the previous answer arrives; slots stop on their own once the phase is done.
 *
 * @param <S> the slot type
 */
abstract class SlotLevel<S> extends LoadLevel {
    final int concurrency;
    private final List<S> slots = new ArrayList<>();

    SlotLevel(HttpLoadClient client, RequestPool requests, Protocol protocol, ServerWatch watch, int batch,
            int concurrency) {
        super(client, requests, protocol, watch, batch);
        this.concurrency = concurrency;
    }

    /** Makes slot {@code index} and starts its first request. */
    abstract S open(int index);

    /** Closes the slot's connection or stream. */
    abstract void close(S slot);

    @Override
    final String label() {
        return "c=" + concurrency;
    }

    @Override
    final void start() {
        for (int i = 0; i < concurrency; i++) {
            slots.add(open(i));
        }
    }

    @Override
    final void stop() {
        // Slots see the phase DONE and send nothing more.
    }

    @Override
    final void closeConnections() {
        slots.forEach(this::close);
    }

    @Override
    final LevelResult result() {
        return stats.result(concurrency, null, batch);
    }
}
