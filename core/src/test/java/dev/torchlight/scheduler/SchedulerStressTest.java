package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.batching;
import static dev.torchlight.scheduler.Fixtures.config;
import static dev.torchlight.scheduler.Fixtures.longs;
import static dev.torchlight.scheduler.Fixtures.rowsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.metrics.ModelStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 100,000 requests from 8 threads with random rows, shapes, timeouts and priorities against
 * instances that fail and run out of memory at random: every request gets exactly one answer, its
 * own rows or an error of the right kind, and a request that timed out never ran.
 */
class SchedulerStressTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 12_500;
    private static final int IN_FLIGHT_PER_THREAD = 32;

    /** Counts every attempt to answer, so a second answer cannot hide behind the first. */
    private static final class CountingFuture extends CompletableFuture<List<Tensor>> implements Answer {
        final AtomicInteger answers = new AtomicInteger();

        @Override
        public void succeed(List<Tensor> outputs, long queueNanos, long computeNanos) {
            answers.incrementAndGet();
            complete(outputs);
        }

        @Override
        public void fail(Throwable error) {
            answers.incrementAndGet();
            completeExceptionally(error);
        }
    }

    private record Sent(long id, int rows, int width, CountingFuture future, ServingException refused) {}

    @Test
    void everyRequestIsAnsweredExactlyOnceWithItsOwnRowsOrTheRightError() throws Exception {
        ScriptedEngine engine = new ScriptedEngine();
        Set<Long> attempted = ConcurrentHashMap.newKeySet();
        engine.behaviour = (model, inputs) -> {
            long[] ids = ScriptedEngine.ids(inputs.get(0));
            for (long id : ids) {
                attempted.add(id);
            }
            int rows = ids.length;
            double dice = ThreadLocalRandom.current().nextDouble();
            if (model.serial == 0 && (rows > 10 || dice < 0.005)) {
                throw ScriptedEngine.outOfMemory(rows);
            }
            if (dice < 0.015) {
                throw new EngineException("random fault");
            }
            return ScriptedEngine.negate(inputs);
        };
        ModelStats stats = new ModelStats();
        // The system clock on purpose: races between arrivals, deadlines and instances in real time are
        // what this test is after.
        ModelScheduler scheduler = ModelScheduler.start(
                config(16, batching(200, List.of(8), 200, 0, 3, 0), 3), 1, Fixtures.cpus(3), engine, stats,
                NanoClock.SYSTEM);

        List<List<Sent>> perThread = new ArrayList<>();
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            List<Sent> sent = new ArrayList<>(PER_THREAD);
            perThread.add(sent);
            long firstId = (long) t * PER_THREAD + 1;
            producers.add(Thread.ofPlatform().start(() -> produce(scheduler, firstId, sent)));
        }
        for (Thread p : producers) {
            p.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(p.isAlive()).as("producer finished").isFalse();
        }
        List<Sent> all = perThread.stream().flatMap(List::stream).toList();
        assertThat(all).hasSize(THREADS * PER_THREAD);
        CompletableFuture.allOf(all.stream().filter(s -> s.refused() == null).map(Sent::future)
                .toArray(CompletableFuture[]::new)).exceptionally(e -> null).get(60, TimeUnit.SECONDS);
        scheduler.close();

        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        for (Sent s : all) {
            String outcome = check(s, attempted);
            outcomes.merge(outcome, 1, Integer::sum);
        }
        // The mix shows every path was taken; exact numbers vary from run to run.
        assertThat(outcomes.get("ok")).as("outcomes %s", outcomes).isGreaterThan(all.size() / 2);
        assertThat(outcomes).as("outcomes").containsKeys("ok", "TimedOut", "Internal", "Overloaded");
        // Instances load in parallel: whichever got model 0 (the one that runs out of memory above
        // 10 rows) learned its limit.
        assertThat(scheduler.instances()).as("the instance running model 0 learned its limit")
                .anySatisfy(i -> assertThat(i.safeBatchSize()).isBetween(1, 10));
        assertThat(engine.loaded).allMatch(m -> m.closed);
        long answered = all.stream().filter(s -> s.refused() == null).count();
        ModelStats.Snapshot snapshot = stats.snapshot();
        assertThat(snapshot.queueCount()).as("every request that left the queue to run").isLessThanOrEqualTo(answered);
    }

    private static void produce(ModelScheduler scheduler, long firstId, List<Sent> sent) {
        SplittableRandom random = new SplittableRandom(firstId);
        Semaphore inFlight = new Semaphore(IN_FLIGHT_PER_THREAD);
        ArrayDeque<CompletableFuture<List<Tensor>>> outstanding = new ArrayDeque<>();
        for (int i = 0; i < PER_THREAD; i++) {
            long id = firstId + i;
            int rows = 1 + random.nextInt(4);
            int width = 2 + random.nextInt(2);
            int priority = random.nextInt(4);
            int kind = random.nextInt(10);
            long timeoutMicros = kind == 0 ? 1 + random.nextInt(300) : kind == 1 ? 1_000 + random.nextInt(20_000) : 0;
            List<Tensor> inputs = List.of(rowsOf(id, rows, width));
            CountingFuture future = new CountingFuture();
            inFlight.acquireUninterruptibly();
            try {
                scheduler.submit(inputs, rows, ShapeKey.of(inputs, true), priority, timeoutMicros, future);
                future.whenComplete((v, e) -> inFlight.release());
                sent.add(new Sent(id, rows, width, future, null));
                outstanding.add(future);
            } catch (ServingException e) {
                inFlight.release();
                sent.add(new Sent(id, rows, width, future, e));
                // Like a client told to retry later: wait for an earlier request before sending more.
                outstanding.removeIf(CompletableFuture::isDone);
                CompletableFuture<List<Tensor>> oldest = outstanding.poll();
                if (oldest != null) {
                    oldest.handle((v, x) -> null).join();
                }
            }
        }
    }

    /**
     * Checks one request and names its outcome. Plain comparisons: 100,000 requests through fluent
     * assertions on a set of 100,000 ids would take longer than the run itself.
     */
    private static String check(Sent s, Set<Long> attempted) throws Exception {
        boolean ran = attempted.contains(s.id());
        if (s.refused() != null) {
            expect(s.refused() instanceof ServingException.Overloaded, s, "refused only as overloaded: " + s.refused());
            expect(s.future().answers.get() == 0, s, "a refused request is never answered");
            expect(!ran, s, "a refused request never runs");
            return "Overloaded";
        }
        expect(s.future().answers.get() == 1, s, "answered exactly once, not " + s.future().answers.get() + " times");
        expect(s.future().isDone(), s, "answered");
        try {
            List<Tensor> outputs = s.future().get();
            expect(outputs.size() == 1, s, "one output");
            expect(Arrays.equals(outputs.get(0).shape(), new long[] {s.rows(), s.width()}), s,
                    "output shape " + Arrays.toString(outputs.get(0).shape()));
            long[] values = longs(outputs.get(0));
            for (int r = 0; r < s.rows(); r++) {
                expect(values[r * s.width()] == -s.id(), s, "row " + r + " carries id " + -values[r * s.width()]);
                for (int c = 1; c < s.width(); c++) {
                    expect(values[r * s.width() + c] == -r, s, "row " + r + " column " + c);
                }
            }
            return "ok";
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ServingException.TimedOut) {
                expect(!ran, s, "a timed-out request never runs");
            } else if (cause instanceof ServingException.Internal || cause instanceof ServingException.ResourceExhausted) {
                expect(ran, s, "a request failed by the engine ran");
            } else {
                throw new AssertionError("request " + s.id() + " failed unexpectedly", cause);
            }
            return cause.getClass().getSimpleName();
        }
    }

    private static void expect(boolean condition, Sent s, String what) {
        if (!condition) {
            throw new AssertionError("request " + s.id() + " (" + s.rows() + " rows): expected " + what);
        }
    }
}
