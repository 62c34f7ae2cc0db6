package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.batching;
import static dev.torchlight.scheduler.Fixtures.config;
import static dev.torchlight.scheduler.Fixtures.longs;
import static dev.torchlight.scheduler.Fixtures.rowsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A fast CPU model's request that finds its instance idle runs on the thread that brought it, when
 * that thread is marked by {@link CallerRuns} (the server's I/O threads); everything after such a
 * run (the next batch, failures, reloads, closing) stays the instance thread's. The requests come
 * from a thread of the test's own ("caller"), marked or not, so that no mark outlives a test.
 */
class CallerRunsTest {
    private static final long WAIT_SECONDS = 10;
    private static final String CALLER = "caller";
    private static final String WORKER = "worker-m/1#0";

    private final ScriptedEngine engine = new ScriptedEngine();
    private final FakeClock clock = new FakeClock();
    private ModelScheduler scheduler;

    @AfterEach
    void close() throws InterruptedException {
        if (scheduler != null) {
            Thread closer = Thread.ofPlatform().daemon().start(scheduler::close);
            closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertThat(closer.isAlive()).as("scheduler closed in time").isFalse();
        }
    }

    private void start(Placement placement) {
        scheduler = ModelScheduler.start(config(8, batching(0)), 1, List.of(placement), engine, new ModelStats(),
                clock);
    }

    /**
     * Submits request {@code id} (one row) on a new thread named "caller", marked if asked, waits for
     * its answer and then for the instance to be idle again, so that the next request finds it idle.
     */
    private List<Tensor> answer(long id, boolean marked) throws Exception {
        List<Tensor> outputs = onCaller(marked, () -> submit(id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        awaitIdle();
        return outputs;
    }

    /** As {@link #answer}, for a request that fails: what it failed with. */
    private Throwable failureOf(long id) throws Exception {
        Throwable thrown = onCaller(true, () -> submit(id)).handle((r, e) -> e).get(WAIT_SECONDS, TimeUnit.SECONDS);
        awaitIdle();
        return thrown;
    }

    /**
     * Waits until the instance's thread waits for its next batch: it has told the scheduler it is idle
     * (a run on the caller's thread told it before the caller's submit returned).
     */
    private static void awaitIdle() {
        eventually(() -> stackOf(WORKER).contains("ArrayBlockingQueue.take"));
    }

    private CompletableFuture<List<Tensor>> submit(long id) {
        List<Tensor> inputs = List.of(rowsOf(id, 1, 2));
        Fixtures.FutureAnswer answer = new Fixtures.FutureAnswer();
        scheduler.submit(inputs, 1, ShapeKey.of(inputs, true), 0, 0, answer);
        return answer;
    }

    /** Runs {@code work} on a fresh thread named "caller" with a model thread's stack, marked if asked. */
    private static <T> T onCaller(boolean marked, Callable<T> work) throws Exception {
        FutureTask<T> task = new FutureTask<>(() -> {
            if (marked) {
                CallerRuns.permitOnThisThread();
            }
            return work.call();
        });
        Thread.ofPlatform().name(CALLER).stackSize(LoadedModel.THREAD_STACK_BYTES).start(task);
        try {
            return task.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Serves {@code count} requests from marked threads, waiting for each, so the model shows it is fast. */
    private void warmUp(int count) throws Exception {
        for (int i = 0; i < count; i++) {
            assertNegated(answer(1000 + i, true), 1000 + i);
        }
    }

    private static void assertNegated(List<Tensor> outputs, long id) {
        assertThat(longs(outputs.get(0))).containsExactly(-id, 0);
    }

    private static void eventually(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met in time").isLessThan(deadline);
            LockSupport.parkNanos(1_000_000);
        }
    }

    private List<String> threads() {
        return engine.loaded.get(0).threads;
    }

    @Test
    void aFastCpuModelsRequestRunsOnTheMarkedThreadThatBroughtItOnceTheModelHasShownItIsFast() throws Exception {
        start(Placement.CPU);
        warmUp(ModelInstance.RECENT_RUNS);
        assertThat(threads()).as("the runs that show the model is fast").containsOnly(WORKER);
        assertThat(scheduler.instances().get(0).callerRuns()).isZero();

        assertNegated(answer(7, true), 7);

        assertThat(threads()).last().isEqualTo(CALLER);
        assertThat(scheduler.instances().get(0).healthy()).isTrue();
        assertThat(scheduler.instances().get(0).callerRuns()).as("counted for the metrics").isEqualTo(1);
    }

    @Test
    void threadsNotMarkedAlwaysHandTheRequestToTheInstance() throws Exception {
        start(Placement.CPU);
        for (int i = 0; i < ModelInstance.RECENT_RUNS + 4; i++) {
            assertNegated(answer(i, false), i);
        }
        assertThat(threads()).containsOnly(WORKER);
        assertThat(scheduler.instances().get(0).callerRuns()).isZero();
    }

    @Test
    void gpuInstancesAlwaysRunOnTheirOwnThread() throws Exception {
        start(Placement.gpu(0));
        warmUp(ModelInstance.RECENT_RUNS + 4);
        assertThat(threads()).containsOnly(WORKER);
    }

    @Test
    void aModelWhoseRecentRunsWereOftenSlowIsServedByTheInstanceUntilTheyAgeOut() throws Exception {
        engine.behaviour = (model, inputs) -> {
            long id = ScriptedEngine.ids(inputs.get(0))[0];
            if (id >= 90 && id < 100) {
                clock.advance(ModelInstance.FAST_RUN_NANOS + 1, TimeUnit.NANOSECONDS);
            }
            return ScriptedEngine.negate(inputs);
        };
        start(Placement.CPU);
        warmUp(ModelInstance.RECENT_RUNS);

        // A slow run now and then (a preempted thread) does not count against a fast model.
        for (int slow = 0; slow <= ModelInstance.SLOW_RUNS_ALLOWED; slow++) {
            assertNegated(answer(90 + slow, true), 90 + slow);
            assertThat(threads()).last().isEqualTo(CALLER);
        }
        // One more than allowed among the last 16: back to the instance until the first ages out.
        int slowRuns = ModelInstance.SLOW_RUNS_ALLOWED + 1;
        for (int i = 0; i < ModelInstance.RECENT_RUNS - slowRuns + 1; i++) {
            assertNegated(answer(i, true), i);
            assertThat(threads()).last().as("run %d after the slow ones", i).isEqualTo(WORKER);
        }
        assertNegated(answer(50, true), 50);
        assertThat(threads()).last().isEqualTo(CALLER);
    }

    @Test
    void failuresOnTheCallersThreadAreJudgedOnTheInstancesThreadWhichReloadsTheModel() throws Exception {
        List<String> loadThreads = new CopyOnWriteArrayList<>();
        engine.loadHook = serial -> loadThreads.add(Thread.currentThread().getName());
        engine.behaviour = (model, inputs) -> {
            if (model.serial == 0 && ScriptedEngine.ids(inputs.get(0))[0] < 100) {
                throw new EngineException("corrupted weights");
            }
            return ScriptedEngine.negate(inputs);
        };
        start(Placement.CPU);
        warmUp(ModelInstance.RECENT_RUNS);

        for (int i = 1; i <= ModelInstance.MAX_CONSECUTIVE_FAILURES; i++) {
            assertThat(failureOf(i)).isInstanceOf(ServingException.Internal.class)
                    .hasMessageContaining("corrupted weights");
        }
        eventually(() -> engine.loads.get() == 2 && scheduler.ready());
        awaitIdle();

        assertThat(threads().subList(ModelInstance.RECENT_RUNS, threads().size())).as("the failed runs")
                .containsOnly(CALLER);
        assertThat(loadThreads).as("the first load and the reload").containsExactly(WORKER, WORKER);
        assertThat(engine.loaded.get(0).closed).isTrue();
        assertThat(scheduler.instances().get(0).reloads()).isEqualTo(1);
        assertNegated(answer(100, true), 100);
    }

    @Test
    void closingWaitsForARunOnTheCallersThreadBeforeItReleasesTheModel() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        engine.behaviour = (model, inputs) -> {
            if (ScriptedEngine.ids(inputs.get(0))[0] == 5) {
                entered.countDown();
                await(release);
            }
            return ScriptedEngine.negate(inputs);
        };
        start(Placement.CPU);
        warmUp(ModelInstance.RECENT_RUNS);
        CompletableFuture<CompletableFuture<List<Tensor>>> running = new CompletableFuture<>();
        Thread.ofPlatform().name(CALLER).stackSize(LoadedModel.THREAD_STACK_BYTES).start(() -> {
            CallerRuns.permitOnThisThread();
            running.complete(submit(5));
        });
        await(entered);

        Thread closer = Thread.ofPlatform().daemon().start(scheduler::close);
        // The instance's thread took its STOP and now waits to close the model the caller is running.
        eventually(() -> stackOf(WORKER).contains("closeModel"));
        assertThat(engine.loaded.get(0).closed).isFalse();
        release.countDown();

        assertNegated(running.get(WAIT_SECONDS, TimeUnit.SECONDS).get(WAIT_SECONDS, TimeUnit.SECONDS), 5);
        closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(engine.loaded.get(0).closed).isTrue();
        assertThat(engine.loaded.get(0).callsAfterClose).isZero();
        scheduler = null;
    }

    /** The stack of the live thread named {@code threadName}, as text; empty if there is none. */
    private static String stackOf(String threadName) {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals(threadName))
                .map(e -> Arrays.toString(e.getValue()))
                .findFirst().orElse("");
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("latch opened in time").isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
