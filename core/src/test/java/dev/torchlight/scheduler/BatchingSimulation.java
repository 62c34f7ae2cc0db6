package dev.torchlight.scheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A discrete-event simulation of one model version's scheduling, on a fake clock in nanoseconds:
 * requests arrive (open loop from a list of times, or closed loop from clients that send again a
 * round trip after their answer), the policy decides for each idle instance as the scheduler would
 * (on every arrival, finished batch and wake-up it asked for), and each instance runs a batch for as
 * long as a synthetic engine profile says. Nothing sleeps and no thread starts, so a policy is judged
 * on thousands of requests in milliseconds.
 */
final class BatchingSimulation {
    private static final long NEVER = Long.MAX_VALUE;

    /** How long an instance's engine takes for a batch; may depend on the time, for drift. */
    interface EngineProfile {
        long nanos(int instance, int rows, long now);
    }

    /** Where requests come from. */
    interface Arrivals {
        /** The next arrival's time, or {@link #NEVER}. */
        long peek();

        /** Takes the arrival {@link #peek} named. */
        void take();

        /** A request was answered at {@code now}. */
        default void answered(long now) {}
    }

    /** What a run measured, over requests that arrived after the warm-up. */
    record Result(long answered, double perSecond, long p50Nanos, long p99Nanos, double meanRows) {
        @Override
        public String toString() {
            return String.format("%.0f/s p50 %.0f us p99 %.0f us, mean batch %.1f", perSecond, p50Nanos / 1e3,
                    p99Nanos / 1e3, meanRows);
        }
    }

    private final BatchPolicy policy;
    private final EngineProfile engine;
    private final int instances;
    private final int maxRows;

    BatchingSimulation(BatchPolicy policy, EngineProfile engine, int instances, int maxRows) {
        this.policy = policy;
        this.engine = engine;
        this.instances = instances;
        this.maxRows = maxRows;
    }

    /** An engine whose runs take {@code fixedMicros + perRowMicros x rows}, each off by up to ±{@code noise}. */
    static EngineProfile line(double fixedMicros, double perRowMicros, double noise, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return (instance, rows, now) -> Math.round(
                (fixedMicros + perRowMicros * rows) * 1000 * (1 + noise * (2 * random.nextDouble() - 1)));
    }

    /** {@code clients} clients, each sending its next request {@code roundTripNanos} (±20%) after its answer. */
    static Arrivals closedLoop(int clients, long roundTripNanos, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] next = new long[clients];
        for (int i = 0; i < clients; i++) {
            next[i] = i * 1_000L;
        }
        return new Arrivals() {
            int sending = -1;
            final List<Integer> waiting = new ArrayList<>();

            @Override
            public long peek() {
                long t = NEVER;
                sending = -1;
                for (int i = 0; i < clients; i++) {
                    if (next[i] < t) {
                        t = next[i];
                        sending = i;
                    }
                }
                return t;
            }

            @Override
            public void take() {
                next[sending] = NEVER;
                waiting.add(sending);
            }

            @Override
            public void answered(long now) {
                int client = waiting.removeFirst();
                next[client] = now + Math.round(roundTripNanos * (0.8 + 0.4 * random.nextDouble()));
            }
        };
    }

    /**
     * Poisson arrivals whose rate (per second, at least 1) is {@code rate} at time t, until
     * {@code endNanos}; each gap is drawn at the rate of its start, which suits rates that change slowly.
     */
    static Arrivals openLoop(java.util.function.LongToDoubleFunction rate, long endNanos, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Long> times = new ArrayList<>();
        long t = 0;
        while (true) {
            double perNano = Math.max(rate.applyAsDouble(t), 1) / 1e9;
            t += Math.max(1, Math.round(-Math.log(1 - random.nextDouble()) / perNano));
            if (t >= endNanos) {
                break;
            }
            times.add(t);
        }
        long[] all = times.stream().mapToLong(Long::longValue).toArray();
        return new Arrivals() {
            int i;

            @Override
            public long peek() {
                return i < all.length ? all[i] : NEVER;
            }

            @Override
            public void take() {
                i++;
            }
        };
    }

    /**
     * Runs until {@code endNanos}, measuring requests that arrive from {@code warmupNanos} on and are
     * answered by the end.
     */
    Result run(Arrivals arrivals, long warmupNanos, long endNanos) {
        RequestQueue queue = new RequestQueue(1, 0);
        long[] finishAt = new long[instances];
        Arrays.fill(finishAt, NEVER);
        List<List<PendingRequest>> running = new ArrayList<>();
        long[] compute = new long[instances];
        for (int i = 0; i < instances; i++) {
            running.add(null);
        }
        long wakeAt = NEVER;
        long id = 0;
        List<Long> latencies = new ArrayList<>();
        long rows = 0;
        long batches = 0;
        long now = 0;
        while (true) {
            long next = Math.min(arrivals.peek(), wakeAt);
            for (long f : finishAt) {
                next = Math.min(next, f);
            }
            if (next >= endNanos) {
                break;
            }
            now = next;
            for (int i = 0; i < instances; i++) {
                if (finishAt[i] == now) {
                    List<PendingRequest> batch = running.get(i);
                    policy.batchRan(i, batch, compute[i], now);
                    for (PendingRequest r : batch) {
                        if (r.enqueuedNanos() >= warmupNanos) {
                            latencies.add(now - r.enqueuedNanos());
                        }
                        arrivals.answered(now);
                    }
                    running.set(i, null);
                    finishAt[i] = NEVER;
                }
            }
            while (arrivals.peek() == now) {
                arrivals.take();
                int inSystem = queue.size();
                for (List<PendingRequest> batch : running) {
                    inSystem += batch == null ? 0 : batch.size();
                }
                policy.arrived(now, inSystem);
                queue.add(Fixtures.pending(id++, 1, 1, 1, now, PendingRequest.NO_DEADLINE));
            }
            wakeAt = NEVER;
            for (int i = 0; i < instances && !queue.isEmpty(); i++) {
                if (finishAt[i] != NEVER) {
                    continue;
                }
                Decision d = policy.decide(queue, now, i, maxRows);
                if (d instanceof Decision.Run run) {
                    compute[i] = engine.nanos(i, run.rows(), now);
                    finishAt[i] = now + compute[i];
                    running.set(i, run.batch());
                    if (now >= warmupNanos) {
                        rows += run.rows();
                        batches++;
                    }
                } else if (d instanceof Decision.Wait wait) {
                    wakeAt = now + wait.delayNanos();
                    break;
                } else {
                    break;
                }
            }
        }
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return new Result(0, 0, 0, 0, 0);
        }
        return new Result(sorted.length, sorted.length / ((endNanos - warmupNanos) / 1e9),
                sorted[sorted.length / 2], sorted[(int) Math.ceil(0.99 * sorted.length) - 1],
                batches == 0 ? 0 : (double) rows / batches);
    }
}
