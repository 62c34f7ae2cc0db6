package dev.torchlight.scheduler;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue, the batcher and the instances of one model version. Requests are queued by
 * {@link #submit}. Whenever a request arrives, an instance becomes idle or healthy, or the wake-up
 * time the {@link BatchPolicy} named has come, one routine decides under the lock (the policy's
 * decision for an idle instance) and acts on it after the lock (fails expired requests, hands the
 * batch over). It runs where the news is, to spare thread hand-offs: on the caller's thread in
 * {@code submit} while the scheduler's thread is parked (which is woken only when it must wake
 * earlier than it planned to); on an instance's thread when it finishes a batch (under load it takes
 * its next batch itself); on the scheduler's own thread for the rest (delays, deadlines, health,
 * shutting down), which waits on a condition in between, through the clock, so that a test's fake
 * clock wakes it: no spinning, no sleeping.
 *
 * <p>Every accepted request's future completes exactly once, outside the lock: with its outputs, or
 * with {@link ServingException.TimedOut} (its deadline passed in the queue; it never ran),
 * {@link ServingException.Internal} (the model failed on it, or deciding failed), {@link
 * ServingException.ResourceExhausted} (it ran out of memory alone) or {@link ServingException.NotReady}
 * (no instance is healthy). Refused requests ({@link ServingException.InvalidInput} for a bad
 * priority, {@link ServingException.Overloaded} for a full queue, {@link ServingException.NotReady})
 * are refused by {@link #submit} throwing, before anything is queued.
 */
public final class ModelScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelScheduler.class);

    private final String label;
    private final BatchPolicy policy;
    private final Admission admission;
    private final RequestQueue queue;
    private final List<ModelInstance> instances;
    private final NanoClock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeup = lock.newCondition();
    private final Thread thread;

    // Guarded by lock.
    private final boolean[] busy;
    /** Requests in the batch each instance runs; 0 while idle. */
    private final int[] running;
    private boolean stopping;
    private boolean flushing;
    private boolean waiting;
    private long plannedWakeNanos = NanoClock.NEVER;

    private ModelScheduler(ModelConfig config, String label, BatchPolicy policy, List<ModelInstance> instances,
            NanoClock clock) {
        this.label = label;
        this.policy = policy;
        this.admission = new Admission(config);
        this.queue = new RequestQueue(admission.levels(), admission.maxQueueSize());
        this.instances = List.copyOf(instances);
        this.busy = new boolean[instances.size()];
        this.running = new int[instances.size()];
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
        return start(config, version, placements, loader, stats, clock,
                BatchPolicy.forConfig(config, placements.size()));
    }

    /** As {@link #start(ModelConfig, long, List, InstanceLoader, ModelStats, NanoClock)}, with a given policy. */
    static ModelScheduler start(ModelConfig config, long version, List<Placement> placements,
            InstanceLoader loader, ModelStats stats, NanoClock clock, BatchPolicy policy) {
        String label = config.name() + "/" + version;
        if (placements.isEmpty()) {
            throw new IllegalArgumentException("model " + label + " needs at least one instance");
        }
        List<ModelInstance> instances = new ArrayList<>(placements.size());
        BatchLayout layout = BatchLayout.of(config);
        for (int i = 0; i < placements.size(); i++) {
            SafeBatchLimit limit = new SafeBatchLimit();
            BatchExecutor executor = new BatchExecutor(label, i, config.batched(), layout, stats, clock, limit, policy);
            instances.add(new ModelInstance(i, label + "#" + i, placements.get(i), loader, executor, limit,
                    config.maxBatchSize()));
        }
        ModelScheduler scheduler = new ModelScheduler(config, label, policy, instances, clock);
        ModelInstance.startAll(instances, scheduler.new Events());
        scheduler.thread.start();
        return scheduler;
    }

    /**
     * Queues one request.
     *
     * @param inputs one tensor per declared input, in declared order, validated; handed over: the
     *     scheduler keeps the list without copying it, so the caller does not change it afterwards
     * @param rows the request's rows (its batch dimension, or 1 for a model without one)
     * @param shape the request's {@link ShapeKey}
     * @param priority 1 (highest) to the model's {@code priority_levels}; 0 for the model's default
     * @param timeoutMicros how long it may wait before running; 0 for the model's {@code default_timeout_ms}
     * @param answer gets the request's own outputs, in declared order, or a {@link ServingException},
     *     exactly once (not when this throws)
     * @throws ServingException.InvalidInput for a priority the model does not have
     * @throws ServingException.Overloaded when the queue holds {@code max_queue_size} requests
     * @throws ServingException.NotReady while shutting down or while no instance is healthy
     */
    public void submit(List<Tensor> inputs, int rows, ShapeKey shape, int priority, long timeoutMicros,
            Answer answer) {
        int level = admission.level(priority);
        Dispatch dispatch = Dispatch.NONE;
        ModelInstance here = null;
        lock.lock();
        try {
            if (stopping) {
                throw shuttingDown();
            }
            if (!anyHealthy()) {
                throw new ServingException.NotReady(notReadyReason());
            }
            long now = clock.nanoTime();
            policy.arrived(now, queue.size() + runningRequests());
            PendingRequest r = new PendingRequest(inputs, rows, shape, level, now, admission.deadline(now, timeoutMicros),
                    answer);
            if (!queue.add(r)) {
                throw admission.queueFull(queue.size());
            }
            // A parked scheduler relies on arrivals to tell it what changed. Rather than waking it for
            // every request, decide here, on the caller's thread (one hand-off instead of two), and wake
            // it only when it must wake earlier than it planned to. A scheduler that is not parked will
            // see this request when it next decides.
            if (waiting) {
                ModelInstance idle = idleInstance();
                if (idle != null) {
                    dispatch = dispatch(idle, now);
                    here = dispatch.batch() != null && idle.runsOnCaller() ? idle : null;
                }
                if (Math.min(r.deadlineNanos(), dispatch.wakeAt()) < plannedWakeNanos) {
                    signal();
                }
            }
        } finally {
            lock.unlock();
        }
        // A fast CPU model's batch runs on this thread when it may (CallerRuns): no hand-offs at all.
        List<PendingRequest> batch = dispatch.carryOut(here);
        if (batch != null) {
            here.runHere(batch);
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
        return "model " + label + " is not ready: every instance is being reloaded after "
                + ModelInstance.MAX_CONSECUTIVE_FAILURES + " failed batches in a row or a GPU fault"
                + (lastError != null ? " (last error: " + lastError + ")" : "");
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

    /** What the batch policy has chosen and learned (latency target, waits, batch sizes, engine costs). */
    public BatchingState batching() {
        lock.lock();
        try {
            return policy.state();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops waiting for fuller batches: what is queued runs as soon as an instance is free, as while
     * closing, but requests are still accepted. For a version that is being retired, whose last
     * requests must not wait for company that will never come.
     */
    public void flush() {
        lock.lock();
        try {
            flushing = true;
            signal();
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

    /** The scheduler's thread: acts on each decision that leaves something to do, until stopped. */
    private void loop() {
        while (true) {
            Dispatch dispatch;
            lock.lock();
            try {
                dispatch = awaitDispatch();
            } finally {
                lock.unlock();
            }
            if (dispatch == null) {
                instances.forEach(ModelInstance::stopAndJoin);
                return;
            }
            dispatch.carryOut(null);
        }
    }

    /**
     * Decides, and waits for an event or the wake-up time in between, until a decision leaves
     * something to do; null once stopping with nothing queued. Under lock.
     */
    private Dispatch awaitDispatch() {
        while (true) {
            long now = clock.nanoTime();
            if (!queue.isEmpty() && !anyHealthy()) {
                return Dispatch.failing(queue.removeAll(), new ServingException.NotReady(notReadyReason()));
            }
            ModelInstance idle = queue.isEmpty() ? null : idleInstance();
            // No instance to run on: only deadlines can need attention before one frees up.
            Dispatch dispatch = idle != null ? dispatch(idle, now)
                    : Dispatch.waiting(now, queue.removeExpired(now), queue.nearestDeadlineNanos());
            if (dispatch.acts()) {
                return dispatch;
            }
            if (stopping && queue.isEmpty()) {
                return null;
            }
            await(dispatch.wakeAt());
        }
    }

    /**
     * The one decision for {@code instance}, idle and healthy, at {@code now}: asks the policy (its
     * no-wait drain while stopping or flushing) and marks the instance busy when it gets a batch. A failure in the
     * policy must not strand requests: what is queued is to fail, and scheduling goes on. Under lock.
     */
    private Dispatch dispatch(ModelInstance instance, long now) {
        Decision decision;
        try {
            decision = stopping || flushing ? policy.drain(queue, now, instance.maxRows())
                    : policy.decide(queue, now, instance.index(), instance.maxRows());
        } catch (RuntimeException e) {
            LOG.error("model {}: batching failed; failing the queued requests", label, e);
            return Dispatch.failing(queue.removeAll(),
                    new ServingException.Internal("model " + label + " failed with an internal error", e));
        }
        return switch (decision) {
            case Decision.Run run -> {
                busy[instance.index()] = true;
                running[instance.index()] = run.batch().size();
                yield Dispatch.running(now, run.expired(), instance, run.batch());
            }
            case Decision.Wait wait -> Dispatch.waiting(now, wait.expired(), now + wait.delayNanos());
            case Decision.Idle idle -> Dispatch.waiting(now, idle.expired(), NanoClock.NEVER);
        };
    }

    /** Parks until signalled or until the clock reads {@code wakeAt}. Under lock. */
    private void await(long wakeAt) {
        plannedWakeNanos = wakeAt;
        waiting = true;
        try {
            clock.awaitUntil(lock, wakeup, wakeAt);
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

    private int runningRequests() {
        int sum = 0;
        for (int r : running) {
            sum += r;
        }
        return sum;
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
            Dispatch dispatch = Dispatch.NONE;
            lock.lock();
            try {
                busy[instance.index()] = false;
                running[instance.index()] = 0;
                // The common case under load: decide for this instance here, on its own thread. Anything
                // else (nothing to run yet, shutting down, no healthy instance) is the scheduler's job,
                // but a parked scheduler is woken only when it must act earlier than it planned to: with
                // nothing queued, the next arrival decides for this idle instance on its own thread, so a
                // request served alone costs no scheduler wake-up.
                if (instance.healthy() && !queue.isEmpty()) {
                    dispatch = dispatch(instance, clock.nanoTime());
                }
                boolean mustWake = stopping || !instance.healthy()
                        || !queue.isEmpty() && dispatch.wakeAt() < plannedWakeNanos;
                if (dispatch.batch() == null && (!waiting || mustWake)) {
                    signal();
                }
            } finally {
                lock.unlock();
            }
            return dispatch.carryOut(instance);
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
