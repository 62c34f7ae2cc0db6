package dev.torchlight.server.it;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the clients of {@link ChaosDuringSwapsTest} sent and the one outcome each request got, by
 * channel ({@code rest-json}, {@code rest-binary}, {@code grpc}, {@code rest-abandoned}) and outcome
 * (an HTTP status, a gRPC code, or what the client did instead of reading an answer). A client
 * records the outcome of every request it sent, so sent and outcomes must add up; a wrong answer, a
 * hang or an unexpected status is recorded as a failure as well.
 */
final class ChaosLedger {
    static final String FAILURE = "failure";

    private final Map<String, LongAdder> sent = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    /** The newest version any client saw answer correctly. */
    final AtomicLong newestVersion = new AtomicLong();

    void sending(String channel) {
        sent.computeIfAbsent(channel, c -> new LongAdder()).increment();
    }

    void outcome(String channel, String outcome) {
        outcomes.computeIfAbsent(channel + " " + outcome, c -> new LongAdder()).increment();
    }

    /** A correct answer from {@code version}. */
    void served(String channel, String outcome, long version) {
        outcome(channel, outcome);
        newestVersion.accumulateAndGet(version, Math::max);
    }

    void failure(String channel, String what) {
        failures.add(channel + ": " + what);
        outcome(channel, FAILURE);
    }

    long sent(String channel) {
        LongAdder n = sent.get(channel);
        return n == null ? 0 : n.sum();
    }

    /** Outcomes of one channel, by outcome. */
    Map<String, Long> outcomes(String channel) {
        Map<String, Long> of = new TreeMap<>();
        outcomes.forEach((key, n) -> {
            if (key.startsWith(channel + " ")) {
                of.put(key.substring(channel.length() + 1), n.sum());
            }
        });
        return of;
    }

    long outcomes(String channel, String outcome) {
        return outcomes(channel).getOrDefault(outcome, 0L);
    }

    long totalOutcomes(String channel) {
        return outcomes(channel).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Every channel's sent count and outcomes, for the test's report. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        for (String channel : new TreeMap<>(sent).keySet()) {
            out.append(channel).append(": sent ").append(sent(channel)).append(' ').append(outcomes(channel))
                    .append('\n');
        }
        return out.toString();
    }
}
