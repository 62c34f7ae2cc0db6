package dev.torchlight.scheduler;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue, the batcher and the instances of one model version. Requests are queued by
 * {@link #submit}; the scheduler's own thread asks the {@link BatchPolicy} what to do whenever a
 * request arrives, an instance becomes idle or healthy, or the wake-up time the policy named has
 * come, and hands each batch to an idle instance. It waits on a condition in between: no spinning,
 * no sleeping. One shortcut: an instance that finishes a batch asks the policy for its next batch
 * itself, on its own thread, so under load batches follow each other without a thread hand-off;
 * only when that finds nothing to run now does the scheduler's thread take over.
 *
 * <p>Every accepted request's future completes exactly once: with its outputs, or with
 * {@link ServingException.TimedOut} (its deadline passed in the queue; it never ran),
 * {@link ServingException.Internal} (its batch failed), {@link ServingException.ResourceExhausted}
 * (it ran out of memory alone) or {@link ServingException.NotReady} (no instance is healthy).
 * Refused requests ({@link ServingException.InvalidInput} for a bad priority,
 * {@link ServingException.Overloaded} for a full queue, {@link ServingException.NotReady}) are
 * refused by {@link #submit} throwing, before anything is queued.
 */
public final class ModelScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelScheduler.class);
    private static final long NO_WAKE = Long.MAX_VALUE;

    private final String label;
    private final BatchPolicy policy;
    private final Admission admission;
    private final RequestQueue queue;
    private final List<ModelInstance> instances;
    private final ModelStats stats;
    private final NanoClock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeup = lock.newCondition();
    private final Thread thread;

    // Guarded by lock.
    private final boolean[] busy;
    private boolean stopping;
    private boolean waiting;
    private long plannedWakeNanos = NO_WAKE;

    private ModelScheduler(ModelConfig config, String label, BatchPolicy policy, List<ModelInstance> instances,
            ModelStats stats, NanoClock clock) {
        this.label = label;
        this.policy = policy;
        this.admission = new Admission(config);
        this.queue = new RequestQueue(admission.levels(), admission.maxQueueSize());
        this.instances = List.copyOf(instances);
        this.busy = new boolean[instances.size()];
        this.stats = stats;
        this.clock = clock;
        this.thread = Thread.ofPlatform().name("scheduler-" + label).daemon(true).unstarted(this::loop);
    }

    /**
     * Starts one instance per placement, each calling {@code loader} once on its own thread (the
     * thread that will serve the model), waits until all have loaded, then starts the scheduler's
     * thread.
     *
     * @param version the version, for labels and messages ({@code name/version})
     * @param placements where each instance runs ({@link InstancePlacement})
     * @param loader loads one instance; also called to reload an instance that keeps failing
     * @param stats where queue and compute times are recorded
     * @throws RuntimeException what {@code loader} threw; instances that did load are closed
     */
    public static ModelScheduler start(ModelConfig config, long version, List<Placement> placements,
            InstanceLoader loader, ModelStats stats, NanoClock clock) {
        return start(config, version, placements, loader, stats, clock, BatchPolicy.forConfig(config));
    }

    /** As {@link #start(ModelConfig, long, List, InstanceLoader, ModelStats, NanoClock)}, with the given policy: for tests. */
    static ModelScheduler start(ModelConfig config, long version, List<Placement> placements,
            InstanceLoader loader, ModelStats stats, NanoClock clock, BatchPolicy policy) {
        String label = config.name() + "/" + version;
        if (placements.isEmpty()) {
            throw new IllegalArgumentException("model " + label + " needs at least one instance");
        }
        List<ModelInstance> instances = new ArrayList<>(placements.size());
        for (int i = 0; i < placements.size(); i++) {
            SafeBatchLimit limit = new SafeBatchLimit();
            BatchExecutor executor = new BatchExecutor(label, config.batched(), stats, clock, limit, policy);
            instances.add(new ModelInstance(i, label + "#" + i, placements.get(i), loader, executor, limit,
                    config.maxBatchSize()));
        }
        ModelScheduler scheduler = new ModelScheduler(config, label, policy, instances, stats, clock);
        Events events = scheduler.new Events();
        // Each instance loads (and warms up) its model on its own thread, all at once.
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
        scheduler.thread.start();
        return scheduler;
    }

    /**
     * Queues one request.
     *
     * @param inputs one tensor per declared input, in declared order, validated
     * @param rows the request's rows (its batch dimension, or 1 for a model without one)
     * @param shape the request's {@link ShapeKey}
     * @param priority 1 (highest) to the model's {@code priority_levels}; 0 for the model's default
     * @param timeoutMicros how long it may wait before running; 0 for the model's {@code default_timeout_ms}
     * @param answer completes with the request's own outputs, in declared order, or a
     *     {@link ServingException}; a {@link TimedAnswer} also learns the request's queue and compute time
     * @return {@code answer}
     * @throws ServingException.InvalidInput for a priority the model does not have
     * @throws ServingException.Overloaded when the queue holds {@code max_queue_size} requests
     * @throws ServingException.NotReady while shutting down or while no instance is healthy
     */
    public <F extends CompletableFuture<List<Tensor>>> F submit(List<Tensor> inputs, int rows, ShapeKey shape, int priority,
            long timeoutMicros, F answer) {
        int level = admission.level(priority);
        List<PendingRequest> expired = List.of();
        List<PendingRequest> broken = List.of();
        ServingException brokenReason = null;
        ModelInstance target = null;
        List<PendingRequest> batch = List.of();
        long now;
        lock.lock();
        try {
            if (stopping) {
                throw shuttingDown();
            }
            if (!anyHealthy()) {
                throw new ServingException.NotReady(notReadyReason());
            }
            now = clock.nanoTime();
            PendingRequest r = new PendingRequest(inputs, rows, shape, level, now, admission.deadline(now, timeoutMicros),
                    answer);
            if (!queue.add(r)) {
                throw admission.queueFull(queue.size());
            }
            // A parked scheduler relies on arrivals to tell it what changed. Rather than waking it for
            // every request, decide here, on the caller's thread: a batch that can run now goes
            // straight to the idle instance (one hand-off instead of two), and the scheduler is woken
            // only when it must wake earlier than it planned to.
            if (waiting) {
                ModelInstance idle = idleInstance();
                long wakeAt = r.deadlineNanos();
                if (idle != null) {
                    try {
                        Decision d = decide(idle, now);
                        expired = d.expired();
                        if (d instanceof Decision.Run run) {
                            target = idle;
                            batch = run.batch();
                        } else if (d instanceof Decision.Wait w) {
                            wakeAt = Math.min(wakeAt, now + w.delayNanos());
                        }
                    } catch (RuntimeException e) {
                        broken = queue.removeAll();
                        brokenReason = internal(e);
                    }
                }
                if (wakeAt < plannedWakeNanos) {
                    signal();
                }
            }
        } finally {
            lock.unlock();
        }
        complete(expired, now, broken, brokenReason);
        if (target != null) {
            target.run(batch);
        }
        return answer;
    }

    /** Fails expired and broken requests; outside the lock, since their callbacks may run any code. */
    private static void complete(List<PendingRequest> expired, long now, List<PendingRequest> broken,
            ServingException brokenReason) {
        for (PendingRequest r : expired) {
            r.fail(Admission.timedOut(r, now));
        }
        for (PendingRequest r : broken) {
            r.fail(brokenReason);
        }
    }

    /** Whether requests are accepted: not shutting down and at least one instance healthy. */
    public boolean ready() {
        lock.lock();
        try {
            return !stopping && anyHealthy();
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #close} was called. */
    public boolean closing() {
        return stopping();
    }

    /** Why the version does not serve now, for {@code NotReady} messages and the model's state. */
    public String notReadyReason() {
        if (stopping()) {
            return shuttingDown().getMessage();
        }
        String lastError = instances.stream().map(i -> i.status().lastError())
                .filter(e -> e != null).reduce((a, b) -> b).orElse(null);
        return "model " + label + " is not ready: every instance is being reloaded after " + ModelInstance.MAX_CONSECUTIVE_FAILURES
                + " failed batches in a row" + (lastError != null ? " (last error: " + lastError + ")" : "");
    }

    /** One status per instance, in instance order: health, learned safe batch size, failures, reloads. */
    public List<InstanceStatus> instances() {
        return instances.stream().map(ModelInstance::status).toList();
    }

    /** Requests waiting in the queue now. */
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the scheduler thread is parked waiting for an event or its wake-up time; for tests. */
    boolean isWaiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops accepting requests, runs what is queued (without waiting for fuller batches), then stops
     * the instances and releases their models. Waits for all of it. Queued requests that no healthy
     * instance can run fail with {@link ServingException.NotReady}.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            stopping = true;
            signal();
        } finally {
            lock.unlock();
        }
        Threads.joinUninterruptibly(thread);
    }

    private void loop() {
        while (true) {
            List<PendingRequest> expired = List.of();
            List<PendingRequest> refused = List.of();
            List<PendingRequest> broken = List.of();
            ServingException brokenReason = null;
            ModelInstance target = null;
            List<PendingRequest> batch = List.of();
            boolean exit = false;
            long now;
            lock.lock();
            try {
                while (true) {
                    now = clock.nanoTime();
                    long wakeAt = NO_WAKE;
                    ModelInstance idle = idleInstance();
                    if (!queue.isEmpty() && !anyHealthy()) {
                        refused = queue.removeAll();
                        break;
                    }
                    if (idle != null && !queue.isEmpty()) {
                        Decision d;
                        try {
                            d = decide(idle, now);
                        } catch (RuntimeException e) {
                            broken = queue.removeAll();
                            brokenReason = internal(e);
                            break;
                        }
                        expired = d.expired();
                        if (d instanceof Decision.Run run) {
                            target = idle;
                            batch = run.batch();
                            break;
                        }
                        if (d instanceof Decision.Wait w) {
                            wakeAt = now + w.delayNanos();
                        }
                    } else {
                        // No instance to run on: only deadlines can need attention before one frees up.
                        expired = queue.removeExpired(now);
                        wakeAt = queue.nearestDeadlineNanos();
                    }
                    if (!expired.isEmpty()) {
                        break;
                    }
                    if (stopping && queue.isEmpty()) {
                        exit = true;
                        break;
                    }
                    await(wakeAt, now);
                }
            } finally {
                lock.unlock();
            }
            // Futures complete outside the lock: their callbacks may run arbitrary code.
            complete(expired, now, broken, brokenReason);
            if (!refused.isEmpty()) {
                ServingException.NotReady reason = exit || stopping() ? shuttingDown()
                        : new ServingException.NotReady(notReadyReason());
                refused.forEach(r -> r.fail(reason));
            }
            if (target != null) {
                target.run(batch);
            }
            if (exit) {
                instances.forEach(ModelInstance::stopAndJoin);
                return;
            }
        }
    }

    /** Asks the policy for {@code instance}, marking it busy when a batch is to run. Under lock. */
    private Decision decide(ModelInstance instance, long now) {
        Decision d;
        try {
            d = stopping ? policy.drain(queue, now, instance.maxRows()) : policy.decide(queue, now, instance.maxRows());
        } catch (RuntimeException e) {
            // A bug in deciding must not strand requests: the caller fails what is queued, and goes on.
            LOG.error("model {}: batching failed; failing the queued requests", label, e);
            throw e;
        }
        if (d instanceof Decision.Run) {
            busy[instance.index()] = true;
        }
        return d;
    }

    private ServingException.Internal internal(RuntimeException e) {
        return new ServingException.Internal("model " + label + " failed with an internal error", e);
    }

    private void await(long wakeAt, long now) {
        plannedWakeNanos = wakeAt;
        waiting = true;
        try {
            if (wakeAt == NO_WAKE) {
                wakeup.await();
            } else {
                wakeup.awaitNanos(wakeAt - now);
            }
        } catch (InterruptedException e) {
            // Nothing interrupts this thread; if something does, deciding again is always safe.
        } finally {
            waiting = false;
        }
    }

    /** Wakes the scheduler thread. Under lock. */
    private void signal() {
        // Cleared here, not when the thread wakes, so "waiting" means it has seen everything so far.
        waiting = false;
        wakeup.signal();
    }

    private boolean stopping() {
        lock.lock();
        try {
            return stopping;
        } finally {
            lock.unlock();
        }
    }

    /** An idle healthy instance, the one that takes the most rows first; null if none. Under lock. */
    private ModelInstance idleInstance() {
        ModelInstance best = null;
        int bestRows = 0;
        for (ModelInstance instance : instances) {
            if (!busy[instance.index()] && instance.healthy()) {
                int rows = instance.maxRows();
                if (best == null || rows > bestRows) {
                    best = instance;
                    bestRows = rows;
                }
            }
        }
        return best;
    }

    private boolean anyHealthy() {
        for (ModelInstance instance : instances) {
            if (instance.healthy()) {
                return true;
            }
        }
        return false;
    }

    private ServingException.NotReady shuttingDown() {
        return new ServingException.NotReady("model " + label + " is shutting down");
    }

    /** What the instances tell the scheduler; a separate class so these methods stay out of the public API. */
    private final class Events implements InstanceEvents {
        @Override
        public List<PendingRequest> finished(ModelInstance instance) {
            List<PendingRequest> expired = List.of();
            List<PendingRequest> broken = List.of();
            ServingException brokenReason = null;
            List<PendingRequest> batch = null;
            long now;
            lock.lock();
            try {
                busy[instance.index()] = false;
                now = clock.nanoTime();
                // The common case under load: decide for this instance here, on its own thread. Anything
                // else (nothing to run yet, shutting down, no healthy instance) is the scheduler's job.
                if (instance.healthy() && !queue.isEmpty()) {
                    try {
                        Decision d = decide(instance, now);
                        expired = d.expired();
                        if (d instanceof Decision.Run run) {
                            batch = run.batch();
                        }
                    } catch (RuntimeException e) {
                        broken = queue.removeAll();
                        brokenReason = internal(e);
                    }
                }
                if (batch == null) {
                    signal();
                }
            } finally {
                lock.unlock();
            }
            complete(expired, now, broken, brokenReason);
            return batch;
        }

        @Override
        public void healthChanged(ModelInstance instance) {
            lock.lock();
            try {
                signal();
            } finally {
                lock.unlock();
            }
        }
    }
}
