package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.scheduler.Answer;
import dev.torchlight.scheduler.BatchLayout;
import dev.torchlight.scheduler.BatchingState;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.scheduler.ModelScheduler;
import dev.torchlight.scheduler.NanoClock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A version whose instances loaded: requests are validated here once, then queued on its
 * {@link ModelScheduler}. It counts the requests that hold it ({@link #hold}); {@link #retire}, called
 * once nothing routes to it any more, waits for them before draining and releasing the instances.
 */
final class LoadedVersion implements ServedVersion {
    private static final Logger LOG = LoggerFactory.getLogger(LoadedVersion.class);
    /** Set in {@link #holds} once retiring: no new holds; the rest of the bits count the live ones. */
    private static final long RETIRING = Long.MIN_VALUE;
    /** How long retiring waits for requests that hold the version before draining it anyway. */
    static final long HOLD_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final ModelConfig config;
    private final long version;
    private final String name;
    private final ModelScheduler scheduler;
    private final BatchLayout layout;
    private final ModelStats stats;
    private final NanoClock clock;
    private final AtomicLong holds = new AtomicLong();

    LoadedVersion(ModelConfig config, long version, String name, ModelScheduler scheduler, ModelStats stats,
            NanoClock clock) {
        this.config = config;
        this.version = version;
        this.name = name;
        this.scheduler = scheduler;
        this.layout = BatchLayout.of(config);
        this.stats = stats;
        this.clock = clock;
    }

    @Override
    public String model() {
        return config.name();
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public ModelState state() {
        if (holds.get() < 0 || scheduler.closing()) {
            return ModelState.UNLOADED;
        }
        return scheduler.ready() ? ModelState.READY : ModelState.LOADING;
    }

    @Override
    public String error() {
        return state() == ModelState.READY ? null : scheduler.notReadyReason();
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        try {
            return submit(request);
        } catch (ServingException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            LOG.error("inference on model {} version {} failed", config.name(), version, e);
            return CompletableFuture.failedFuture(new ServingException.Internal("internal error", e));
        }
    }

    private CompletableFuture<InferenceResponse> submit(InferenceRequest request) {
        // From here on every outcome is counted against this version: refusals by outcome only.
        try {
            List<Tensor> inputs = RequestValidator.inputsInOrder(config, request);
            RequestValidator.checkRequestedOutputs(config, request.outputs());
            int rows = config.batched() ? (int) inputs.get(0).dim(0) : 1;
            Reply reply = new Reply(request, rows, clock.nanoTime());
            // Refusals (bad priority, full queue, no healthy instance) throw here.
            scheduler.submit(inputs, rows, layout.shapeKey(inputs), request.priority(),
                    request.timeoutMicros(), reply);
            stats.requestStarted();
            return reply;
        } catch (ServingException e) {
            stats.recordRefusal(Outcome.of(e));
            throw e;
        } catch (RuntimeException e) {
            stats.recordRefusal(Outcome.INTERNAL);
            throw e;
        }
    }

    /**
     * One request's answer, and what it cost in this version's statistics: the one object a request
     * is answered through, completed on the instance's thread.
     */
    private final class Reply extends CompletableFuture<InferenceResponse> implements Answer {
        private final InferenceRequest request;
        private final int rows;
        private final long startNanos;

        Reply(InferenceRequest request, int rows, long startNanos) {
            this.request = request;
            this.rows = rows;
            this.startNanos = startNanos;
        }

        @Override
        public void succeed(List<Tensor> outputs, long queueNanos, long computeNanos) {
            stats.recordSuccess(clock.nanoTime() - startNanos);
            stats.requestFinished();
            complete(new InferenceResponse(config.name(), version, request.id(), select(outputs, request.outputs()),
                    rows, queueNanos, computeNanos));
        }

        @Override
        public void fail(Throwable error) {
            stats.recordFailure(Outcome.of(error), clock.nanoTime() - startNanos);
            stats.requestFinished();
            completeExceptionally(error);
        }
    }

    /** The requested outputs in the requested order (all of them checked to exist), or every output. */
    private static List<Tensor> select(List<Tensor> outputs, List<String> requested) {
        if (requested.isEmpty()) {
            return outputs;
        }
        List<Tensor> chosen = new ArrayList<>(requested.size());
        for (String name : requested) {
            for (Tensor t : outputs) {
                if (t.name().equals(name)) {
                    chosen.add(t);
                    break;
                }
            }
        }
        return chosen;
    }

    @Override
    public List<InstanceStatus> instances() {
        return scheduler.instances();
    }

    @Override
    public int queued() {
        return scheduler.queued();
    }

    @Override
    public ModelStats.Snapshot stats() {
        return stats.snapshot();
    }

    @Override
    public BatchingState batching() {
        return scheduler.batching();
    }

    @Override
    public boolean hold() {
        while (true) {
            long h = holds.get();
            if (h < 0) {
                return false;
            }
            if (holds.compareAndSet(h, h + 1)) {
                return true;
            }
        }
    }

    @Override
    public void release() {
        if (holds.decrementAndGet() == RETIRING) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * Stops new holds, waits (up to {@link #HOLD_WAIT_NANOS}) for the requests that hold the version
     * to be answered, then releases the instances. Called once nothing routes here. Meanwhile queued
     * requests run without waiting for fuller batches: no more requests will join them.
     */
    void retire() {
        if (holds.getAndUpdate(h -> h < 0 ? h : h | RETIRING) < 0) {
            return; // already retired
        }
        scheduler.flush();
        long deadline = System.nanoTime() + HOLD_WAIT_NANOS;
        boolean interrupted = false;
        synchronized (this) {
            long left;
            while (holds.get() != RETIRING && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        long stillHeld = holds.get() & ~RETIRING;
        if (stillHeld > 0) {
            LOG.warn("model {} version {}: {} request(s) still hold it after {} s; draining it anyway",
                    config.name(), version, stillHeld, TimeUnit.NANOSECONDS.toSeconds(HOLD_WAIT_NANOS));
        }
        scheduler.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
