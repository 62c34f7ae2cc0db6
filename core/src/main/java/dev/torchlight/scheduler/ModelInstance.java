package dev.torchlight.scheduler;

import dev.torchlight.api.BatchedCompletion;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded instance of a model and the platform thread that owns it. The thread loads the model
 * (warm-up included) before anything else, so that loading, warming and serving happen on one
 * thread: libtorch keeps per-thread state (its OpenMP thread team among it), and a model warmed on
 * one thread and served from another ran ResNet-50 a third slower. Native engine calls block,
 * so they run here, one batch at a time, handed over by the scheduler only while this instance is
 * idle. After {@link #MAX_CONSECUTIVE_FAILURES} failed batches in a row (unless the instance still
 * runs its warm-up input, when the inputs were at fault), or at once after a device fault (a broken
 * CUDA context, on which nothing can run again), the instance closes its model and loads a fresh one
 * on this same thread, retrying with a growing pause if loading fails.
 *
 * <p>A fast CPU model's batch may also run on the thread that brought its request ({@link #runHere},
 * see {@link CallerRuns}) while this instance's thread stays parked: the scheduler hands a batch to
 * one idle instance only, so the model still runs one batch at a time. What follows such a run (the
 * next batch, judging failures, reloading) is handed to this instance's thread.
 */
final class ModelInstance {
    private static final Logger LOG = LoggerFactory.getLogger(ModelInstance.class);

    /** Failed batches in a row (out-of-memory aside) after which the instance is reloaded. */
    static final int MAX_CONSECUTIVE_FAILURES = 5;

    static final long FIRST_RELOAD_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long MAX_RELOAD_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** The mailbox item that ends the thread; compared by identity. */
    private static final List<PendingRequest> STOP = new ArrayList<>();
    /** The mailbox item after a failed {@link #runHere}: judge the failure (and reload) on this thread. */
    private static final List<PendingRequest> FAILED_ELSEWHERE = new ArrayList<>();
    /**
     * The runs a model is judged on before a batch may run on the thread that brought its request:
     * at least this many, and of the last this many, at most {@link #SLOW_RUNS_ALLOWED} took over
     * {@link #FAST_RUN_NANOS}. Not "all of them": on a shared machine a run now and then is made
     * slow by preemption, and with "every run fast" each such run sent the next 16 requests back
     * through the hand-offs.
     */
    static final int RECENT_RUNS = 16;
    static final int SLOW_RUNS_ALLOWED = 2;
    /**
     * The longest run that goes to the thread that brought it. Short enough that the two hand-offs it
     * saves (tens of microseconds each, milliseconds in a busy machine's tail) outweigh the helper
     * threads it forgoes (such a run computes on one thread), and that the I/O thread's other
     * connections barely notice: the demo model's runs (10–50 µs) qualify, the risk MLP's (0.2–0.4
     * ms, which its instance's two threads speed up) do not (docs/PERFORMANCE.md, "Caller runs").
     */
    static final long FAST_RUN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final int index;
    private final String label;
    private final Placement placement;
    private final InstanceLoader loader;
    private final BatchExecutor executor;
    private final SafeBatchLimit limit;
    private final int maxBatchSize;
    // The scheduler hands a batch only to an idle instance and STOP once: room for one of each.
    private final BlockingQueue<List<PendingRequest>> mailbox = new ArrayBlockingQueue<>(2);
    private final AtomicLong reloads = new AtomicLong();
    /** Batches {@link #runHere} ran (read by status from any thread). */
    private final AtomicLong callerRuns = new AtomicLong();
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();
    /**
     * Held while the model runs on another thread, and to load or close it: closing (on STOP, which
     * may come while the scheduler thinks this instance busy) waits for such a run to end.
     */
    private final ReentrantLock modelUse = new ReentrantLock();
    private LoadedModel model;
    /** {@link #model} as {@link #runHere} calls it; made once per load, not per run. */
    private LoadedModel onCaller;
    private InstanceEvents events;
    private Thread thread;
    private volatile boolean healthy = true;
    private volatile int consecutiveFailures;
    private volatile String loadError;
    private volatile String stream = "";

    /**
     * @param index position among the version's instances
     * @param label names the thread and log lines, e.g. {@code resnet50/1#0}
     * @param placement where the instance runs
     * @param loader loads the model on the instance's thread when it starts, and again when it is reloaded
     */
    ModelInstance(int index, String label, Placement placement, InstanceLoader loader, BatchExecutor executor,
            SafeBatchLimit limit, int maxBatchSize) {
        this.index = index;
        this.label = label;
        this.placement = placement;
        this.loader = loader;
        this.executor = executor;
        this.limit = limit;
        this.maxBatchSize = maxBatchSize;
    }

    /**
     * Starts every instance, each loading (and warming up) its model on its own thread, all at once,
     * and waits until all have loaded; {@code events} hears from them from now on.
     *
     * @throws RuntimeException or Error: the first failure to load, once every instance has stopped
     */
    static void startAll(List<ModelInstance> instances, InstanceEvents events) {
        instances.forEach(instance -> instance.start(events));
        Throwable failure = null;
        for (ModelInstance instance : instances) {
            try {
                instance.awaitLoaded();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            instances.forEach(ModelInstance::stopAndJoin);
            switch (failure) {
                case RuntimeException r -> throw r;
                case Error e -> throw e;
                default -> throw new IllegalStateException(failure);
            }
        }
    }

    /** Starts the thread, which loads the model first; {@code events} hears from it from now on. */
    private void start(InstanceEvents events) {
        this.events = events;
        this.thread = Thread.ofPlatform().name("worker-" + label).daemon(true).stackSize(LoadedModel.THREAD_STACK_BYTES)
                .unstarted(this::loop);
        thread.start();
    }

    /**
     * Waits until the thread has loaded the model.
     *
     * @throws RuntimeException or Error: what loading threw (the thread has ended then)
     */
    private void awaitLoaded() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    loaded.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case RuntimeException r -> throw r;
                        case Error err -> throw err;
                        default -> throw new IllegalStateException(e.getCause());
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    int index() {
        return index;
    }

    /** False while the instance is being reloaded. */
    boolean healthy() {
        return healthy;
    }

    /** Most rows one batch for this instance may hold. */
    int maxRows() {
        return limit.cap(maxBatchSize);
    }

    /**
     * Whether a batch for this idle instance may run on the calling thread: a thread marked by
     * {@link CallerRuns}, a CPU instance, and a model whose recent runs were fast ({@link #RECENT_RUNS}).
     */
    boolean runsOnCaller() {
        return placement.kind() == Placement.Kind.CPU && executor.recentRunsFast() && CallerRuns.permittedHere();
    }

    /**
     * Runs a batch handed to this idle instance on the calling thread, then decides for this instance
     * as after any batch: the next batch, or the judging of a failure, goes to the instance's thread.
     */
    void runHere(List<PendingRequest> batch) {
        boolean ok;
        modelUse.lock();
        try {
            if (model == null) {
                // Closed meanwhile: the version stopped between the hand-over and this run.
                ServingException error = new ServingException.NotReady("model " + label + " is shutting down");
                batch.forEach(r -> r.fail(error));
                return;
            }
            callerRuns.incrementAndGet();
            ok = BatchedCompletion.around(() -> executor.run(onCaller, batch));
        } finally {
            modelUse.unlock();
        }
        if (!ok) {
            consecutiveFailures++;
            run(FAILED_ELSEWHERE);
            return;
        }
        consecutiveFailures = 0;
        List<PendingRequest> next = events.finished(this);
        if (next != null) {
            run(next);
        }
    }

    /** The model as {@link #runHere} calls it: {@link LoadedModel#inferOnCaller}. */
    private record OnCaller(LoadedModel model) implements LoadedModel {
        @Override
        public List<Tensor> infer(List<Tensor> inputs) {
            return model.inferOnCaller(inputs);
        }

        @Override
        public void close() {
            throw new UnsupportedOperationException("the instance's thread closes its model");
        }
    }

    /** Hands a batch (or {@link #FAILED_ELSEWHERE}) to the instance's thread, which must be waiting for one. */
    void run(List<PendingRequest> batch) {
        if (!mailbox.offer(batch)) {
            throw new IllegalStateException("instance " + label + " was handed a batch while busy");
        }
    }

    /** Asks the thread to end once its current work is done, and waits for it. */
    void stopAndJoin() {
        mailbox.offer(STOP);
        Threads.joinUninterruptibly(thread);
    }

    InstanceStatus status() {
        String error = loadError != null && !healthy ? loadError : executor.lastError();
        return new InstanceStatus(label, placement, stream, healthy, limit.safeBatchSize(maxBatchSize),
                consecutiveFailures, reloads.get(), error, callerRuns.get());
    }

    private void loop() {
        boolean stopped = false;
        try {
            try {
                loadModel();
            } catch (RuntimeException | Error e) {
                stopped = true; // never served: nobody is to be told it stopped
                healthy = false;
                loaded.completeExceptionally(e);
                return;
            }
            loaded.complete(null);
            while (true) {
                List<PendingRequest> batch = mailbox.take();
                if (batch == STOP) {
                    stopped = true;
                    return;
                }
                // Under load the next batch is taken straight away on this thread, sparing a round
                // trip through the scheduler's thread; the mailbox is for when the queue ran dry.
                while (batch != null) {
                    if (batch != FAILED_ELSEWHERE) {
                        List<PendingRequest> running = batch;
                        // Replies of one batch reach each I/O thread as one task, not one wake-up per request.
                        boolean ok = BatchedCompletion.around(() -> executor.run(model, running));
                        consecutiveFailures = ok ? 0 : consecutiveFailures + 1;
                    }
                    String reason = executor.takeDeviceFault() ? "a device fault"
                            : consecutiveFailures >= MAX_CONSECUTIVE_FAILURES && !inputsAtFault()
                                    ? consecutiveFailures + " failed batches in a row" : null;
                    if (reason != null && !reload(reason)) {
                        stopped = true;
                        return;
                    }
                    batch = events.finished(this);
                }
            }
        } catch (InterruptedException e) {
            LOG.warn("instance {} interrupted; stopping", label);
        } catch (RuntimeException | Error e) {
            LOG.error("instance {} stopped by an unexpected failure", label, e);
        } finally {
            closeModel();
            if (!stopped) {
                // Out of service for good: let the scheduler stop counting on this instance.
                healthy = false;
                events.healthChanged(this);
            }
        }
    }

    /**
     * After failed batches in a row: whether the instance still runs its warm-up input, so that the
     * failures were its requests' (clients sending inputs the model rejects) and reloading it would
     * only let them take it out of service at will.
     */
    private boolean inputsAtFault() {
        boolean works;
        try {
            works = loader.stillRuns(model);
        } catch (RuntimeException e) {
            works = false;
        }
        if (works) {
            LOG.warn("instance {}: {} failed batches in a row ({}), but it still runs its warm-up input: "
                    + "the inputs were at fault; not reloading it", label, consecutiveFailures, executor.lastError());
            consecutiveFailures = 0;
        }
        return works;
    }

    /** @return false when asked to stop while reloading */
    private boolean reload(String reason) throws InterruptedException {
        LOG.warn("instance {}: {} ({}); reloading it", label, reason, executor.lastError());
        // Released first (only this thread uses it), so that whoever sees the instance unhealthy
        // also sees the broken model gone.
        closeModel();
        healthy = false;
        events.healthChanged(this);
        long pause = FIRST_RELOAD_PAUSE_NANOS;
        while (true) {
            try {
                loadModel();
                break;
            } catch (RuntimeException | Error e) {
                // Even an Error (a native library that failed to link, say) is retried after a pause.
                loadError = "reload failed: " + (e.getMessage() == null ? e.toString() : e.getMessage());
                LOG.error("instance {}: {}; retrying in {} ms", label, loadError, pause / 1_000_000);
            }
            // The pause doubles as the wait for STOP: nothing else arrives while unhealthy.
            if (mailbox.poll(pause, TimeUnit.NANOSECONDS) == STOP) {
                return false;
            }
            pause = Math.min(MAX_RELOAD_PAUSE_NANOS, pause * 2);
        }
        loadError = null;
        consecutiveFailures = 0;
        reloads.incrementAndGet();
        LOG.info("instance {} reloaded", label);
        healthy = true;
        events.healthChanged(this);
        return true;
    }

    /** Loads the model at this instance's placement and notes the stream it runs on. */
    private void loadModel() {
        LoadedModel fresh = loader.load(placement);
        modelUse.lock();
        try {
            model = fresh;
            onCaller = new OnCaller(fresh);
        } finally {
            modelUse.unlock();
        }
        stream = fresh.stream();
    }

    private void closeModel() {
        modelUse.lock();
        try {
            if (model == null) {
                return;
            }
            try {
                model.close();
            } catch (RuntimeException e) {
                LOG.warn("instance {}: closing the model failed: {}", label, e.toString());
            }
            model = null;
            onCaller = null;
        } finally {
            modelUse.unlock();
        }
    }
}
