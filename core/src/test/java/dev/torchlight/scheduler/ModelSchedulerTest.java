package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.batching;
import static dev.torchlight.scheduler.Fixtures.config;
import static dev.torchlight.scheduler.Fixtures.longs;
import static dev.torchlight.scheduler.Fixtures.rowsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelSchedulerTest {
    private static final long WAIT_SECONDS = 10;

    private final ScriptedEngine engine = new ScriptedEngine();
    private final ModelStats stats = new ModelStats();
    private final FakeClock fakeClock = new FakeClock();
    /** Requests whose id is in here block inside the engine until {@link #release} opens. */
    private final Set<Long> gated = ConcurrentHashMap.newKeySet();
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch gateEntered = new CountDownLatch(1);
    private ModelScheduler scheduler;

    @AfterEach
    void close() throws InterruptedException {
        release.countDown();
        if (scheduler != null) {
            // Bounded, so a scheduler that cannot stop fails the test instead of hanging the build.
            Thread closer = Thread.ofPlatform().daemon().start(scheduler::close);
            closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertThat(closer.isAlive()).as("scheduler closed in time").isFalse();
        }
    }

    private ModelScheduler start(ModelConfig config, NanoClock clock) {
        scheduler = ModelScheduler.start(config, 1, Fixtures.cpus(config), engine, stats, clock);
        return scheduler;
    }

    private ModelScheduler start(ModelConfig config, NanoClock clock, BatchPolicy policy) {
        scheduler = ModelScheduler.start(config, 1, Fixtures.cpus(config), engine, stats, clock, policy);
        return scheduler;
    }

    /** The model's own policy, which throws while {@link #broken} and records what the runs teach it. */
    private static final class ScriptedPolicy implements BatchPolicy {
        private final BatchPolicy policy;
        final List<String> learned = new CopyOnWriteArrayList<>();
        volatile boolean broken;

        ScriptedPolicy(ModelConfig config) {
            this.policy = BatchPolicy.forConfig(config, 1);
        }

        @Override
        public Decision decide(RequestQueue queue, long now, int instance, int maxRows) {
            if (broken) {
                throw new IllegalStateException("policy bug");
            }
            return policy.decide(queue, now, instance, maxRows);
        }

        @Override
        public Decision drain(RequestQueue queue, long now, int maxRows) {
            return policy.drain(queue, now, maxRows);
        }

        @Override
        public void batchRan(int instance, List<PendingRequest> batch, long computeNanos, long endNanos) {
            int rows = batch.stream().mapToInt(PendingRequest::rows).sum();
            learned.add(rows + " rows in " + computeNanos + " ns on " + Thread.currentThread().getName());
        }
    }

    /** Engine behaviour: block on gated ids, then run {@code then}. */
    private void gatedThen(ScriptedEngine.Behaviour then) {
        engine.behaviour = (model, inputs) -> {
            for (long id : ScriptedEngine.ids(inputs.get(0))) {
                if (gated.contains(id)) {
                    gateEntered.countDown();
                    awaitLatch(release);
                }
            }
            return then.run(model, inputs);
        };
    }

    private void gated() {
        gatedThen((model, inputs) -> ScriptedEngine.negate(inputs));
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("latch opened in time").isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Polls for what other threads do on their own time (an instance's bookkeeping after its answers,
     * a reload, a close on another thread): real concurrency. Waits on the scheduler's clock use
     * {@link FakeClock#awaitParked} and {@link FakeClock#advance} instead.
     */
    private static void eventually(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met in time").isLessThan(deadline);
            LockSupport.parkNanos(1_000_000);
        }
    }

    private CompletableFuture<List<Tensor>> submit(long id, int rows) {
        return submit(id, rows, 0, 0);
    }

    private CompletableFuture<List<Tensor>> submit(long id, int rows, int priority, long timeoutMicros) {
        List<Tensor> inputs = List.of(rowsOf(id, rows, 2));
        Fixtures.FutureAnswer answer = new Fixtures.FutureAnswer();
        scheduler.submit(inputs, rows, ShapeKey.of(inputs, true), priority, timeoutMicros, answer);
        return answer;
    }

    /** The request's own output: {@code rows} rows of {@code -id, -row}. */
    private static void assertOwnOutput(CompletableFuture<List<Tensor>> future, long id, int rows) throws Exception {
        List<Tensor> outputs = future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(outputs).hasSize(1);
        assertThat(outputs.get(0).name()).isEqualTo("y");
        assertThat(outputs.get(0).shape()).containsExactly(rows, 2);
        long[] expected = new long[rows * 2];
        for (int r = 0; r < rows; r++) {
            expected[2 * r] = -id;
            expected[2 * r + 1] = -r;
        }
        assertThat(longs(outputs.get(0))).containsExactly(expected);
    }

    private static Throwable failure(CompletableFuture<?> future) {
        Throwable thrown = catchThrowable(() -> future.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertThat(thrown).isInstanceOf(ExecutionException.class);
        return thrown.getCause();
    }

    private ScriptedEngine.Model model(int serial) {
        return engine.loaded.get(serial);
    }

    // --- the model's thread

    @Test
    void theModelRunsOnAThreadWithRoomForDeepNativeStacks() throws Exception {
        // 100,000 nested calls overflow the JVM's default 1 MiB stack, not the model thread's 16 MiB.
        engine.behaviour = (model, inputs) -> {
            assertThat(depth(100_000)).isEqualTo(100_000);
            return ScriptedEngine.negate(inputs);
        };
        start(config(8, batching(0)), NanoClock.SYSTEM);

        assertOwnOutput(submit(0, 1), 0, 1);
    }

    private static int depth(int n) {
        return n == 0 ? 0 : 1 + depth(n - 1);
    }

    // --- batching

    @Test
    void requestsQueuedWhileTheInstanceIsBusyRunAsOneBatchAndEachGetsItsOwnRows() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        CompletableFuture<List<Tensor>> a = submit(1, 1);
        CompletableFuture<List<Tensor>> b = submit(2, 2);
        CompletableFuture<List<Tensor>> c = submit(3, 3);
        release.countDown();

        assertOwnOutput(first, 0, 1);
        assertOwnOutput(a, 1, 1);
        assertOwnOutput(b, 2, 2);
        assertOwnOutput(c, 3, 3);
        assertThat(model(0).runs).containsExactly(1, 6);
        ModelStats.Snapshot s = stats.snapshot();
        assertThat(s.executionCount()).isEqualTo(2);
        assertThat(s.inferenceCount()).isEqualTo(7);
        assertThat(s.queueCount()).isEqualTo(4);
    }

    @Test
    void aPartialBatchWaitsForTheDelayOnTheInjectedClock() throws Exception {
        start(config(8, batching(TimeUnit.HOURS.toMicros(1))), fakeClock);
        long t0 = fakeClock.nanoTime();
        CompletableFuture<List<Tensor>> first = submit(1, 1);
        // Parked with a request queued and an idle instance: the policy said "wait" for the delay.
        assertThat(fakeClock.awaitParked()).isEqualTo(t0 + TimeUnit.HOURS.toNanos(1));
        assertThat(scheduler.queued()).isEqualTo(1);
        fakeClock.advance(59, TimeUnit.MINUTES);
        // The first request could only have run alone if the scheduler ignored the delay.
        CompletableFuture<List<Tensor>> second = submit(2, 1);
        assertThat(fakeClock.awaitParked()).as("still the first request's delay")
                .isEqualTo(t0 + TimeUnit.HOURS.toNanos(1));
        assertThat(scheduler.queued()).isEqualTo(2);
        fakeClock.advance(1, TimeUnit.MINUTES);

        assertOwnOutput(first, 1, 1);
        assertOwnOutput(second, 2, 1);
        assertThat(model(0).runs).containsExactly(2);
    }

    @Test
    void aFlushedSchedulerRunsWhatIsQueuedWithoutWaitingAndStillTakesRequests() throws Exception {
        start(config(8, batching(TimeUnit.HOURS.toMicros(1))), fakeClock);
        CompletableFuture<List<Tensor>> first = submit(1, 1);
        fakeClock.awaitParked();

        scheduler.flush();

        assertOwnOutput(first, 1, 1);
        assertOwnOutput(submit(2, 2), 2, 2);
        assertThat(model(0).runs).as("each ran at once, alone").containsExactly(1, 2);
    }

    @Test
    void requestsServedOneAtATimeNeverWakeTheSchedulerThread() throws Exception {
        start(config(8, null), fakeClock);
        fakeClock.awaitParked();
        long parks = fakeClock.parks();

        for (int i = 0; i < 5; i++) {
            assertOwnOutput(submit(i, 1), i, 1);
        }

        fakeClock.awaitParked();
        assertThat(fakeClock.parks()).as("the arrival handed each request to the idle instance; the finished"
                + " instance had nothing to tell the scheduler").isEqualTo(parks);
    }

    @Test
    void theSchedulerWakesItselfWhenTheDelayPasses() throws Exception {
        start(config(8, batching(20_000)), fakeClock);
        long t0 = fakeClock.nanoTime();
        CompletableFuture<List<Tensor>> only = submit(1, 1);
        assertThat(fakeClock.awaitParked()).isEqualTo(t0 + TimeUnit.MILLISECONDS.toNanos(20));
        assertThat(only).isNotDone();

        // Nothing else happens: only the clock reaching the wake-up time can run it.
        fakeClock.advance(20, TimeUnit.MILLISECONDS);
        assertOwnOutput(only, 1, 1);
        assertThat(stats.snapshot().queueNs()).as("waited the 20 ms delay").isEqualTo(20_000_000);
    }

    @Test
    void withoutDynamicBatchingRequestsRunOneByOne() throws Exception {
        start(config(8, null), NanoClock.SYSTEM);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        List<CompletableFuture<List<Tensor>>> rest = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            rest.add(submit(i, 2));
        }
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (int i = 1; i <= 3; i++) {
            assertOwnOutput(rest.get(i - 1), i, 2);
        }
        assertThat(model(0).runs).containsExactly(1, 2, 2, 2);
        assertThat(model(0).ids).containsExactly(0L, 1L, 1L, 2L, 2L, 3L, 3L);
    }

    @Test
    void higherPriorityRunsFirst() throws Exception {
        start(config(8, batching(0, List.of(), 0, 0, 2, 0), 1), NanoClock.SYSTEM);
        engine.behaviour = (model, inputs) -> ScriptedEngine.negate(inputs);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        // Different widths keep them in separate batches, so the order of runs shows the priority.
        List<Tensor> low = List.of(rowsOf(1, 1, 3));
        Fixtures.FutureAnswer lowFuture = new Fixtures.FutureAnswer();
        scheduler.submit(low, 1, ShapeKey.of(low, true), 2, 0, lowFuture);
        CompletableFuture<List<Tensor>> high = submit(2, 1, 1, 0);
        release.countDown();

        first.get(WAIT_SECONDS, TimeUnit.SECONDS);
        lowFuture.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertOwnOutput(high, 2, 1);
        assertThat(model(0).ids).containsExactly(0L, 2L, 1L);
    }

    @Test
    void aLowPriorityRequestThatWaitedOneAgingStepRunsBeforeNewerHighPriorityOnes() throws Exception {
        start(config(8, batching(0, List.of(), 0, 0, 2, 0), 1), fakeClock);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        // As in higherPriorityRunsFirst, but the low-priority request waits one aging step (100 ms)
        // before the high-priority one arrives: it has caught up, and it is older.
        List<Tensor> low = List.of(rowsOf(1, 1, 3));
        Fixtures.FutureAnswer lowFuture = new Fixtures.FutureAnswer();
        scheduler.submit(low, 1, ShapeKey.of(low, true), 2, 0, lowFuture);
        fakeClock.advance(PriorityAging.MIN_AGING_NANOS, TimeUnit.NANOSECONDS);
        CompletableFuture<List<Tensor>> high = submit(2, 1, 1, 0);
        release.countDown();

        first.get(WAIT_SECONDS, TimeUnit.SECONDS);
        lowFuture.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertOwnOutput(high, 2, 1);
        assertThat(model(0).ids).containsExactly(0L, 1L, 2L);
    }

    @Test
    void severalInstancesRunAtTheSameTimeOnTheirOwnThreads() throws Exception {
        start(config(8, null, 2), NanoClock.SYSTEM);
        CountDownLatch bothInside = new CountDownLatch(2);
        engine.behaviour = (model, inputs) -> {
            bothInside.countDown();
            awaitLatch(bothInside);
            return ScriptedEngine.negate(inputs);
        };
        CompletableFuture<List<Tensor>> a = submit(1, 1);
        CompletableFuture<List<Tensor>> b = submit(2, 1);

        assertOwnOutput(a, 1, 1);
        assertOwnOutput(b, 2, 1);
        assertThat(engine.loaded).hasSize(2);
        // Instances load in parallel, so which model went to which instance is not fixed: each model
        // runs on one thread of its own.
        assertThat(model(0).threads).hasSize(1);
        assertThat(model(1).threads).hasSize(1);
        assertThat(List.of(model(0).threads.get(0), model(1).threads.get(0)))
                .containsExactlyInAnyOrder("worker-m/1#0", "worker-m/1#1");
        assertThat(scheduler.instances()).extracting(InstanceStatus::label).containsExactly("m/1#0", "m/1#1");
    }

    // --- refusals and deadlines

    @Test
    void aRequestWhoseDeadlinePassesInTheQueueTimesOutAndNeverRuns() throws Exception {
        start(config(8, batching(0)), fakeClock);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);

        long t0 = fakeClock.nanoTime();
        CompletableFuture<List<Tensor>> late = submit(1, 1, 0, 1_000);
        // The instance is still busy: the scheduler must wake for the deadline on its own.
        assertThat(fakeClock.awaitParked()).isEqualTo(t0 + TimeUnit.MILLISECONDS.toNanos(1));
        fakeClock.advance(1, TimeUnit.MILLISECONDS);
        assertThat(failure(late)).isInstanceOf(ServingException.TimedOut.class)
                .hasMessage("request waited 1 ms in the queue, past its timeout of 1 ms");
        release.countDown();
        assertOwnOutput(first, 0, 1);
        assertOwnOutput(submit(2, 1), 2, 1);
        assertThat(model(0).ids).containsExactly(0L, 2L);
    }

    @Test
    void theModelsDefaultTimeoutAppliesWhenTheRequestNamesNone() throws Exception {
        start(config(8, batching(0, List.of(), 0, 1, 0, 0)), fakeClock);
        gated.add(0L);
        gated();
        submit(0, 1, 0, TimeUnit.MINUTES.toMicros(1));
        awaitLatch(gateEntered);
        long t0 = fakeClock.nanoTime();
        CompletableFuture<List<Tensor>> late = submit(1, 1);
        assertThat(fakeClock.awaitParked()).isEqualTo(t0 + TimeUnit.MILLISECONDS.toNanos(1));
        fakeClock.advance(1, TimeUnit.MILLISECONDS);
        assertThat(failure(late)).isInstanceOf(ServingException.TimedOut.class)
                .hasMessageEndingWith("past its timeout of 1 ms");
    }

    @Test
    void aFullQueueRefusesAtOnceAsOverloaded() throws Exception {
        start(config(8, batching(0, List.of(), 2, 0, 0, 0)), NanoClock.SYSTEM);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        CompletableFuture<List<Tensor>> a = submit(1, 1);
        CompletableFuture<List<Tensor>> b = submit(2, 1);

        assertThatThrownBy(() -> submit(3, 1))
                .isInstanceOf(ServingException.Overloaded.class)
                .hasMessage("model 'm' queue is full (2 requests); retry later");
        assertThat(scheduler.queued()).isEqualTo(2);
        release.countDown();
        assertOwnOutput(first, 0, 1);
        assertOwnOutput(a, 1, 1);
        assertOwnOutput(b, 2, 1);
    }

    @Test
    void aPriorityTheModelDoesNotHaveIsInvalidInput() {
        start(config(8, batching(0, List.of(), 0, 0, 2, 0)), NanoClock.SYSTEM);
        assertThatThrownBy(() -> submit(1, 1, 3, 0))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("priority 3 is outside 1..2");
        assertThat(engine.loaded).allSatisfy(m -> assertThat(m.runs).isEmpty());
    }

    // --- faults

    @Test
    void anEngineErrorFailsOnlyItsBatchWithTheEngineMessage() throws Exception {
        start(config(8, null), NanoClock.SYSTEM);
        engine.behaviour = (model, inputs) -> {
            if (ScriptedEngine.ids(inputs.get(0))[0] == 13) {
                throw new EngineException("expected 3 channels, got 4");
            }
            return ScriptedEngine.negate(inputs);
        };
        assertThat(failure(submit(13, 1))).isInstanceOf(ServingException.Internal.class)
                .hasMessage("model m/1 failed: expected 3 channels, got 4");
        assertThat(scheduler.instances().get(0).lastError()).contains("3 channels");
        assertOwnOutput(submit(14, 1), 14, 1);
        // The count is kept after the answers are out, so it may lag them a moment.
        eventually(() -> scheduler.instances().get(0).consecutiveFailures() == 0);
    }

    @Test
    void anUnexpectedCrashIsInternalWithoutItsDetails() throws Exception {
        start(config(8, null), NanoClock.SYSTEM);
        engine.behaviour = (model, inputs) -> {
            throw new IllegalStateException("native pointer 0xdeadbeef");
        };
        assertThat(failure(submit(1, 1))).isInstanceOf(ServingException.Internal.class)
                .hasMessageContaining("internal error")
                .hasMessageNotContaining("deadbeef");
    }

    @Test
    void outputsWithTheWrongNumberOfRowsFailTheWholeBatch() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        gated.add(0L);
        gatedThen((model, inputs) -> {
            List<Tensor> out = ScriptedEngine.negate(inputs);
            if (inputs.get(0).dim(0) == 1) {
                return out;
            }
            return List.of(rowsOf(9, 1, 2).withName("y"));
        });
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        CompletableFuture<List<Tensor>> a = submit(1, 1);
        CompletableFuture<List<Tensor>> b = submit(2, 2);
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (CompletableFuture<List<Tensor>> f : List.of(a, b)) {
            assertThat(failure(f)).isInstanceOf(ServingException.Internal.class)
                    .hasMessage("model m/1 failed: model returned 1 row in output 'y' for a batch of 3 rows");
        }
    }

    @Test
    void outOfMemoryRetriesTheBatchInHalvesLearnsTheSafeSizeAndAppliesIt() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        gated.add(0L);
        gatedThen((model, inputs) -> {
            int rows = (int) inputs.get(0).dim(0);
            if (rows > 3) {
                throw ScriptedEngine.outOfMemory(rows);
            }
            return ScriptedEngine.negate(inputs);
        });
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        List<CompletableFuture<List<Tensor>>> eight = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            eight.add(submit(i, 1));
        }
        assertThat(scheduler.instances().get(0).safeBatchSize()).as("nothing learned yet").isZero();
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (int i = 1; i <= 8; i++) {
            assertOwnOutput(eight.get(i - 1), i, 1);
        }
        assertThat(model(0).runs).containsExactly(1, 8, 4, 2, 2, 4, 2, 2);
        InstanceStatus status = scheduler.instances().get(0);
        assertThat(status.safeBatchSize()).isEqualTo(2);
        assertThat(status.consecutiveFailures()).as("out of memory is not a broken instance").isZero();
        assertThat(stats.snapshot().executionCount()).as("only successful runs count").isEqualTo(5);

        // Later batches for this instance are capped at the safe size: no more OOM.
        gated.add(100L);
        CountDownLatch second = new CountDownLatch(1);
        gatedThen((model, inputs) -> {
            if (ScriptedEngine.ids(inputs.get(0))[0] == 100) {
                awaitLatch(second);
            }
            return ScriptedEngine.negate(inputs);
        });
        CompletableFuture<List<Tensor>> blocker = submit(100, 1);
        eventually(() -> model(0).runs.size() == 9);
        List<CompletableFuture<List<Tensor>>> six = new ArrayList<>();
        for (int i = 101; i <= 106; i++) {
            six.add(submit(i, 1));
        }
        second.countDown();
        assertOwnOutput(blocker, 100, 1);
        for (int i = 101; i <= 106; i++) {
            assertOwnOutput(six.get(i - 101), i, 1);
        }
        assertThat(model(0).runs.subList(9, model(0).runs.size())).containsExactly(2, 2, 2);
    }

    @Test
    void aSingleRequestThatRunsOutOfMemoryIsResourceExhausted() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        engine.behaviour = (model, inputs) -> {
            int rows = (int) inputs.get(0).dim(0);
            if (rows > 3) {
                throw ScriptedEngine.outOfMemory(rows);
            }
            return ScriptedEngine.negate(inputs);
        };
        assertThat(failure(submit(1, 4))).isInstanceOf(ServingException.ResourceExhausted.class)
                .hasMessageContaining("model m/1 ran out of memory on a request of 4 rows")
                .hasMessageContaining("CUDA out of memory");
        assertThat(scheduler.instances().get(0).safeBatchSize()).isEqualTo(3);
        assertOwnOutput(submit(2, 3), 2, 3);
        assertThat(scheduler.ready()).isTrue();
    }

    @Test
    void anEngineErrorOnOneRequestOfABatchFailsItAloneAndTheOthersAreAnswered() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        gated.add(0L);
        gatedThen((model, inputs) -> {
            for (long id : ScriptedEngine.ids(inputs.get(0))) {
                if (id == 5) {
                    throw new EngineException("index 5 is out of range");
                }
            }
            return ScriptedEngine.negate(inputs);
        });
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        List<CompletableFuture<List<Tensor>>> eight = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            eight.add(submit(i, 1));
        }
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (int i = 1; i <= 8; i++) {
            if (i == 5) {
                assertThat(failure(eight.get(i - 1))).isInstanceOf(ServingException.Internal.class)
                        .hasMessage("model m/1 failed: index 5 is out of range");
            } else {
                assertOwnOutput(eight.get(i - 1), i, 1);
            }
        }
        // 8 failed; [1-4] ran, [5-8] failed; [5, 6] failed, [7, 8] ran; [5] failed, [6] ran.
        assertThat(model(0).runs).containsExactly(1, 8, 4, 4, 2, 2, 1, 1);
        assertThat(model(0).ids.subList(1 + 8 + 4, model(0).ids.size())).containsExactly(5L, 6L, 7L, 8L, 5L, 6L, 7L,
                8L, 5L, 6L);
        assertThat(stats.snapshot().executionCount()).as("runs that succeeded").isEqualTo(4);
    }

    @Test
    void aDeviceFaultWhileFindingTheFailingRequestRunsNothingMoreAndReloadsTheInstance() throws Exception {
        start(config(8, batching(0)), NanoClock.SYSTEM);
        gated.add(0L);
        gatedThen((model, inputs) -> {
            int rows = (int) inputs.get(0).dim(0);
            if (model.serial == 0 && rows == 4) {
                throw new EngineException("index 3 is out of range");
            }
            if (model.serial == 0 && rows == 2) {
                throw new EngineException("CUDA error: device-side assert triggered", null,
                        EngineException.Kind.DEVICE_FAULT);
            }
            return ScriptedEngine.negate(inputs);
        });
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        List<CompletableFuture<List<Tensor>>> four = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            four.add(submit(i, 1));
        }
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (CompletableFuture<List<Tensor>> f : four) {
            assertThat(failure(f)).isInstanceOf(ServingException.Internal.class)
                    .hasMessage("model m/1 failed: CUDA error: device-side assert triggered (the GPU's context is"
                            + " broken; the instance is being loaded again)");
        }
        assertThat(model(0).runs).as("the batch, then its first half only").containsExactly(1, 4, 2);
        eventually(() -> engine.loads.get() == 2 && scheduler.ready());
        assertOwnOutput(submit(9, 1), 9, 1);
    }

    @Test
    void anInstanceThatKeepsFailingIsReloadedAndTheVersionIsNotReadyMeanwhile() throws Exception {
        CountDownLatch reloadMayFinish = new CountDownLatch(1);
        engine.loadHook = serial -> {
            if (serial == 1) {
                awaitLatch(reloadMayFinish);
            }
        };
        engine.behaviour = (model, inputs) -> {
            long id = ScriptedEngine.ids(inputs.get(0))[0];
            if (id == 5) {
                gateEntered.countDown();
                awaitLatch(release);
            }
            if (model.serial == 0) {
                throw new EngineException("corrupted weights " + id);
            }
            return ScriptedEngine.negate(inputs);
        };
        start(config(8, null), NanoClock.SYSTEM);
        for (int i = 1; i <= 4; i++) {
            assertThat(failure(submit(i, 1))).isInstanceOf(ServingException.Internal.class);
            assertThat(scheduler.ready()).isTrue();
        }
        CompletableFuture<List<Tensor>> fifth = submit(5, 1);
        awaitLatch(gateEntered);
        CompletableFuture<List<Tensor>> queued = submit(6, 1);
        release.countDown();

        assertThat(failure(fifth)).isInstanceOf(ServingException.Internal.class).hasMessageContaining("weights 5");
        assertThat(failure(queued)).as("queued when its only instance went down")
                .isInstanceOf(ServingException.NotReady.class)
                .hasMessageContaining("not ready");
        eventually(() -> !scheduler.ready());
        assertThatThrownBy(() -> submit(7, 1))
                .isInstanceOf(ServingException.NotReady.class)
                .hasMessageContaining("model m/1 is not ready")
                .hasMessageContaining("corrupted weights 5");
        InstanceStatus reloading = scheduler.instances().get(0);
        assertThat(reloading.healthy()).isFalse();
        assertThat(model(0).closed).as("the broken model is released before the reload").isTrue();

        reloadMayFinish.countDown();
        eventually(() -> scheduler.ready());
        assertOwnOutput(submit(8, 1), 8, 1);
        assertThat(model(1).ids).containsExactly(8L);
        InstanceStatus recovered = scheduler.instances().get(0);
        assertThat(recovered.healthy()).isTrue();
        assertThat(recovered.reloads()).isEqualTo(1);
        assertThat(recovered.consecutiveFailures()).isZero();
    }

    @Test
    void aFailedReloadIsRetried() throws Exception {
        engine.loadHook = serial -> {
            if (serial == 1) {
                throw new EngineException("disk unavailable");
            }
        };
        engine.behaviour = (model, inputs) -> {
            if (model.serial == 0) {
                throw new EngineException("broken");
            }
            return ScriptedEngine.negate(inputs);
        };
        start(config(8, null), NanoClock.SYSTEM);
        for (int i = 1; i <= ModelInstance.MAX_CONSECUTIVE_FAILURES; i++) {
            failure(submit(i, 1));
        }
        // Loads: the first, the failed reload, the retry that succeeds. The pause before the retry
        // (100 ms) is real time: the instance waits for it on its own thread, not on the scheduler's clock.
        eventually(() -> engine.loads.get() == 3 && scheduler.ready());
        assertOwnOutput(submit(9, 1), 9, 1);
    }

    @Test
    void aFailureInsideThePolicyFailsWhatIsQueuedWithInternalAndTheSchedulerLivesOn() throws Exception {
        ModelConfig config = config(8, batching(0));
        ScriptedPolicy policy = new ScriptedPolicy(config);
        start(config, NanoClock.SYSTEM, policy);
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        CompletableFuture<List<Tensor>> a = submit(1, 1);
        CompletableFuture<List<Tensor>> b = submit(2, 2);
        policy.broken = true;
        // The instance decides its next batch itself when it finishes: that decision fails.
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (CompletableFuture<List<Tensor>> f : List.of(a, b)) {
            assertThat(failure(f)).isInstanceOf(ServingException.Internal.class)
                    .hasMessage("model m/1 failed with an internal error");
        }
        assertThat(failure(submit(3, 1))).as("decided on arrival, with the instance idle")
                .isInstanceOf(ServingException.Internal.class);
        policy.broken = false;
        assertOwnOutput(submit(4, 1), 4, 1);
        assertThat(model(0).ids).containsExactly(0L, 4L);
        assertThat(scheduler.ready()).isTrue();
    }

    @Test
    void thePolicyLearnsTheRowsAndComputeTimeOfEverySuccessfulRunOnTheInstanceThread() throws Exception {
        ModelConfig config = config(8, batching(0));
        ScriptedPolicy policy = new ScriptedPolicy(config);
        start(config, fakeClock, policy);
        gated.add(0L);
        gatedThen((model, inputs) -> {
            int rows = (int) inputs.get(0).dim(0);
            if (rows > 3) {
                throw ScriptedEngine.outOfMemory(rows);
            }
            // The engine's cost on the injected clock: a millisecond per row.
            fakeClock.advance(rows, TimeUnit.MILLISECONDS);
            return ScriptedEngine.negate(inputs);
        });
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        List<CompletableFuture<List<Tensor>>> four = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            four.add(submit(i, 1));
        }
        release.countDown();

        assertOwnOutput(first, 0, 1);
        for (int i = 1; i <= 4; i++) {
            assertOwnOutput(four.get(i - 1), i, 1);
        }
        assertThat(model(0).runs).containsExactly(1, 4, 2, 2);
        // The policy learns once the answers are out.
        eventually(() -> policy.learned.size() == 3);
        assertThat(policy.learned).as("the batch of 4 ran out of memory and taught nothing; its halves did")
                .containsExactly("1 rows in 1000000 ns on worker-m/1#0", "2 rows in 2000000 ns on worker-m/1#0",
                        "2 rows in 2000000 ns on worker-m/1#0");
    }

    // --- lifecycle

    @Test
    void closeRunsWhatIsQueuedWithoutWaitingForTheDelayThenReleasesTheModels() throws Exception {
        start(config(8, batching(TimeUnit.HOURS.toMicros(1), 1), 2), fakeClock);
        long t0 = fakeClock.nanoTime();
        gated.add(0L);
        gated();
        CompletableFuture<List<Tensor>> first = submit(0, 1);
        awaitLatch(gateEntered);
        engine.loaded.forEach(m -> assertThat(m.closed).isFalse());
        // The second instance is idle, but these wait for a fuller batch on a clock that never moves.
        CompletableFuture<List<Tensor>> a = submit(1, 2);
        CompletableFuture<List<Tensor>> b = submit(2, 2);
        assertThat(fakeClock.awaitParked()).isEqualTo(t0 + TimeUnit.HOURS.toNanos(1));
        assertThat(scheduler.queued()).isEqualTo(2);

        Thread closer = Thread.ofPlatform().start(scheduler::close);
        eventually(() -> !scheduler.ready());
        assertThatThrownBy(() -> submit(3, 1)).isInstanceOf(ServingException.NotReady.class)
                .hasMessage("model m/1 is shutting down");
        release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(closer.isAlive()).isFalse();

        assertOwnOutput(first, 0, 1);
        assertOwnOutput(a, 1, 2);
        assertOwnOutput(b, 2, 2);
        assertThat(engine.loaded.stream().flatMap(m -> m.runs.stream()).toList())
                .as("drained as one batch").containsExactlyInAnyOrder(1, 4);
        assertThat(engine.loaded).allSatisfy(m -> {
            assertThat(m.closed).isTrue();
            assertThat(m.callsAfterClose).isZero();
        });
        scheduler.close(); // idempotent
    }

    @Test
    void aFailedLoadClosesTheInstancesAlreadyLoaded() {
        engine.loadHook = serial -> {
            if (serial == 2) {
                throw new EngineException("cannot map file");
            }
        };
        assertThatThrownBy(() -> ModelScheduler.start(config(8, null, 3), 1, Fixtures.cpus(3), engine, stats, NanoClock.SYSTEM))
                .isInstanceOf(EngineException.class)
                .hasMessage("cannot map file");
        assertThat(engine.loaded).hasSize(2).allMatch(m -> m.closed);
    }

    // --- placement

    @Test
    void eachInstanceLoadsWhereItIsPlaced() throws Exception {
        List<Placement> placements = List.of(Placement.CPU, Placement.gpu(1), Placement.gpu(0));
        scheduler = ModelScheduler.start(config(8, null, 3), 1, placements, engine, stats, NanoClock.SYSTEM);

        assertThat(engine.placements).containsExactlyInAnyOrderElementsOf(placements);
        assertThat(scheduler.instances()).extracting(InstanceStatus::placement).containsExactlyElementsOf(placements);
        assertOwnOutput(submit(1, 1), 1, 1);
    }

    @Test
    void gpuInstancesNeedAGpu() {
        ModelConfig gpu = new ModelConfig("m", "torchscript", 8, Fixtures.INPUTS, Fixtures.OUTPUTS, null,
                List.of(new InstanceGroup(1, InstanceGroup.Kind.CPU, List.of()),
                        new InstanceGroup(2, InstanceGroup.Kind.GPU, List.of())), EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        assertThatThrownBy(() -> InstancePlacement.of(gpu, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model 'm': instance_group kind GPU needs a GPU, but the engine sees none"
                        + " (this build runs libtorch on CPU)");
        assertThat(InstancePlacement.of(config(8, null, 2), 0)).containsExactly(Placement.CPU, Placement.CPU);
    }

    @Test
    void aGpuGroupPlacesCountInstancesOnEachGpuRoundRobin() {
        ModelConfig gpu = new ModelConfig("m", "torchscript", 8, Fixtures.INPUTS, Fixtures.OUTPUTS, null,
                List.of(new InstanceGroup(1, InstanceGroup.Kind.CPU, List.of()),
                        new InstanceGroup(2, InstanceGroup.Kind.GPU, List.of())), EngineSettings.DEFAULT, HandlerSpec.TENSOR);

        assertThat(InstancePlacement.of(gpu, 2)).containsExactly(Placement.CPU,
                Placement.gpu(0), Placement.gpu(1), Placement.gpu(0), Placement.gpu(1));
        assertThat(InstancePlacement.of(gpu, 1)).containsExactly(Placement.CPU, Placement.gpu(0), Placement.gpu(0));
    }

    @Test
    void gpuDevicesMustExist() {
        ModelConfig gpu = new ModelConfig("m", "torchscript", 8, Fixtures.INPUTS, Fixtures.OUTPUTS, null,
                List.of(new InstanceGroup(2, InstanceGroup.Kind.GPU, List.of(0, 2))), EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        assertThatThrownBy(() -> InstancePlacement.of(gpu, 2))
                .isInstanceOf(ConfigException.class)
                .hasMessage("model 'm': instance_group entry 1 names GPU 2, but the engine sees 2 GPUs (devices 0..1)");
        assertThat(InstancePlacement.of(gpu, 3)).containsExactly(
                Placement.gpu(0), Placement.gpu(2), Placement.gpu(0), Placement.gpu(2));
    }

    @Test
    void scalingKeepsTheMixOfPlacements() {
        List<Placement> mixed = List.of(Placement.CPU, Placement.gpu(0), Placement.gpu(1));

        assertThat(InstancePlacement.scaled(mixed, 5)).containsExactly(Placement.CPU, Placement.gpu(0),
                Placement.gpu(1), Placement.CPU, Placement.gpu(0));
        assertThat(InstancePlacement.scaled(mixed, 1)).containsExactly(Placement.CPU);
        assertThatThrownBy(() -> InstancePlacement.scaled(mixed, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
