package dev.torchlight.server.http;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP responses written, by status code: one adder per code, created the first time that code is
 * written, so counting allocates nothing once each code has been seen and never locks.
 */
public final class StatusCounts {
    private final AtomicReferenceArray<LongAdder> byCode = new AtomicReferenceArray<>(600);

    void record(int code) {
        if (code < 0 || code >= byCode.length()) {
            return;
        }
        LongAdder adder = byCode.getAcquire(code);
        if (adder == null) {
            LongAdder created = new LongAdder();
            LongAdder witness = byCode.compareAndExchange(code, null, created);
            adder = witness == null ? created : witness;
        }
        adder.increment();
    }

    /** The codes written so far and how often, ascending. */
    public Map<Integer, Long> snapshot() {
        Map<Integer, Long> counts = new TreeMap<>();
        for (int code = 0; code < byCode.length(); code++) {
            LongAdder adder = byCode.get(code);
            if (adder != null) {
                counts.put(code, adder.sum());
            }
        }
        return counts;
    }
}
