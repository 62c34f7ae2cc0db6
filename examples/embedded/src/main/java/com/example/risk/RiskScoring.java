package com.example.risk;

import dev.torchlight.embedded.Model;
import dev.torchlight.embedded.Torchlight;
import dev.torchlight.metrics.ModelStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A plain Java application that scores the bench "risk" model (an MLP 256 → 1024 → 1024 → 2, FP32)
 * in-process with torchlight-embedded, from many threads at once, and prints throughput and latency
 * percentiles per concurrency. Each thread sends one row and waits for its score (a closed loop, as
 * {@code torchlight bench --concurrency N} does over the network); torchlight batches the rows of
 * all threads together as the model's {@code dynamic_batching} says.
 *
 * <pre>
 * RiskScoring REPOSITORY [--model risk_batched] [--concurrency 1,8,64] [--warmup-seconds 2] [--seconds 5]
 * </pre>
 */
public final class RiskScoring {
    private static final int FEATURES = 256;

    private RiskScoring() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0 || args.length % 2 == 0) {
            System.err.println("usage: RiskScoring REPOSITORY [--model NAME] [--concurrency N,N...]"
                    + " [--warmup-seconds S] [--seconds S]");
            System.exit(2);
        }
        Path repository = Path.of(args[0]);
        String name = "risk_batched";
        int[] concurrency = {1, 8, 64};
        Duration warmup = Duration.ofSeconds(2);
        Duration measured = Duration.ofSeconds(5);
        for (int i = 1; i < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> name = args[i + 1];
                case "--concurrency" -> concurrency = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--warmup-seconds" -> warmup = Duration.ofMillis((long) (Double.parseDouble(args[i + 1]) * 1000));
                case "--seconds" -> measured = Duration.ofMillis((long) (Double.parseDouble(args[i + 1]) * 1000));
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }

        try (Torchlight torchlight = Torchlight.builder(repository).models(name).open()) {
            Model model = torchlight.model(name);
            if (!model.ready()) {
                System.err.println("model " + name + " did not load: " + model.served().error());
                System.exit(1);
            }
            System.out.printf("%-11s %9s %14s %8s %8s %8s %8s%n", "concurrency", "requests", "throughput_rps",
                    "p50_ms", "p90_ms", "p99_ms", "max_ms");
            for (int threads : concurrency) {
                score(model, threads, warmup);
                long[] latencies = score(model, threads, measured);
                Arrays.sort(latencies);
                System.out.printf("%-11d %9d %14.0f %8.3f %8.3f %8.3f %8.3f%n", threads, latencies.length,
                        latencies.length / (measured.toNanos() / 1e9), ms(latencies, 0.50), ms(latencies, 0.90),
                        ms(latencies, 0.99), latencies[latencies.length - 1] / 1e6);
            }
            ModelStats.Snapshot stats = model.stats();
            System.out.printf("%s: %d rows in %d engine runs (%.1f rows per run), %d failed%n", name,
                    stats.inferenceCount(), stats.executionCount(),
                    stats.inferenceCount() / (double) Math.max(1, stats.executionCount()), stats.failCount());
        }
    }

    /** Runs {@code threads} closed loops for {@code duration}; every request's latency in ns. */
    private static long[] score(Model model, int threads, Duration duration) throws InterruptedException {
        long end = System.nanoTime() + duration.toNanos();
        List<Thread> running = new ArrayList<>();
        long[][] perThread = new long[threads][];
        for (int t = 0; t < threads; t++) {
            int index = t;
            running.add(Thread.ofPlatform().name("client-" + t).start(() -> perThread[index] = loop(model, index, end)));
        }
        for (Thread thread : running) {
            thread.join();
        }
        return Arrays.stream(perThread).flatMapToLong(Arrays::stream).toArray();
    }

    /** One client: a row, its score, the next row, until {@code end}. */
    private static long[] loop(Model model, int seed, long end) {
        float[][] rows = new float[16][FEATURES];
        Random random = new Random(seed);
        for (float[] row : rows) {
            for (int i = 0; i < FEATURES; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        long[] latencies = new long[1 << 14];
        int n = 0;
        for (long now = System.nanoTime(); now < end; ) {
            float[] score = model.infer(rows[n & 15]).join();
            long done = System.nanoTime();
            if (score.length != 2) {
                throw new IllegalStateException("expected 2 scores per row, got " + score.length);
            }
            if (n == latencies.length) {
                latencies = Arrays.copyOf(latencies, n * 2);
            }
            latencies[n++] = done - now;
            now = done;
        }
        return Arrays.copyOf(latencies, n);
    }

    /** The {@code q} quantile of sorted latencies, in ms. */
    private static double ms(long[] sorted, double q) {
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
