package dev.torchlight.bench.raw;

import dev.torchlight.api.Tensor;
import dev.torchlight.bench.result.LevelResult;
import dev.torchlight.engine.LoadedModel;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One batch size: every instance warms up on its own thread, then all are measured over the same
 * window. Each thread calls its own instance back to back, so the result is the engine's limit.
 */
final class LevelRun {
    static final String ENGINE_ERROR = "engine";

    private final List<LoadedModel> instances;
    private final List<Tensor> inputs;
    private final int batchSize;
    private final String label;
    private final PrintStream progress;

    private final Recorder recorder = new Recorder(3);
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicLong lastEnd = new AtomicLong(Long.MIN_VALUE);
    private final CountDownLatch warmed;
    private final CountDownLatch go = new CountDownLatch(1);
    private final CountDownLatch done;
    private volatile long measureEnd;

    LevelRun(List<LoadedModel> instances, List<Tensor> inputs, int batchSize, String label, PrintStream progress) {
        this.instances = instances;
        this.inputs = inputs;
        this.batchSize = batchSize;
        this.label = label;
        this.progress = progress;
        this.warmed = new CountDownLatch(instances.size());
        this.done = new CountDownLatch(instances.size());
    }

    /** The first engine error's message, or null when every call succeeded. */
    String firstError() {
        return firstError.get();
    }

    LevelResult run(Duration warmup, Duration duration) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < instances.size(); i++) {
            LoadedModel instance = instances.get(i);
            // The server's model threads' stack, so that a model runs here wherever it runs there.
            threads.add(Thread.ofPlatform().name("raw-bench-" + i).daemon().stackSize(LoadedModel.THREAD_STACK_BYTES)
                    .start(() -> work(instance, warmup.toNanos())));
        }
        warmed.await();
        long start = System.nanoTime();
        measureEnd = start + duration.toNanos();
        go.countDown();

        Histogram total = new Histogram(3);
        Histogram interval = null;
        long lastErrors = 0;
        // Wakes once a second for the progress line, or as soon as every thread is done.
        while (!done.await(1, TimeUnit.SECONDS)) {
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
            long errorsNow = errors.get();
            // The same columns as the HTTP bench's progress line.
            progress.printf(Locale.ROOT, "  %6.1f s  %-12s %10.0f calls/s  p99 %8.3f ms  errors %d%n",
                    (System.nanoTime() - start) / 1e9, label, (double) interval.getTotalCount() + errorsNow - lastErrors,
                    total.getValueAtPercentile(99) / 1000.0, errorsNow);
            lastErrors = errorsNow;
        }
        for (Thread t : threads) {
            t.join();
        }
        total.add(recorder.getIntervalHistogram(interval));
        double seconds = Math.max(1, lastEnd.get() - start) / 1e9;
        return result(total, errors.get(), seconds);
    }

    private void work(LoadedModel instance, long warmupNanos) {
        try {
            long warmEnd = System.nanoTime() + warmupNanos;
            while (System.nanoTime() < warmEnd) {
                if (!call(instance)) {
                    break; // a failing model fails the same way measured; no point spinning here
                }
            }
        } finally {
            warmed.countDown();
        }
        try {
            go.await();
            long end = measureEnd;
            long now = System.nanoTime();
            while (now < end) {
                long t0 = now;
                boolean ok = call(instance);
                now = System.nanoTime();
                if (ok) {
                    recorder.recordValue((now - t0) / 1000);
                } else {
                    errors.incrementAndGet();
                }
            }
            lastEnd.accumulateAndGet(now, Math::max);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            done.countDown();
        }
    }

    private boolean call(LoadedModel instance) {
        try {
            instance.infer(inputs);
            return true;
        } catch (RuntimeException e) {
            // Counted, never fatal: a level reports its errors like the HTTP bench does.
            firstError.compareAndSet(null, String.valueOf(e.getMessage()));
            return false;
        }
    }

    private LevelResult result(Histogram h, long errorCount, double seconds) {
        long ok = h.getTotalCount();
        long calls = ok + errorCount;
        return new LevelResult(instances.size(), null, batchSize,
                ok / seconds, ok * (double) batchSize / seconds,
                ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0,
                calls, errorCount,
                errorCount == 0 ? Map.of() : Map.of(ENGINE_ERROR, errorCount), 0);
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }
}
