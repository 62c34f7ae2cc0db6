package dev.torchlight.scheduler;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.metrics.ModelStats;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one batch on one loaded model and answers every request of it exactly once. A failure fails
 * only that batch's requests, and of those only the ones it must: an out-of-memory error splits the
 * batch in halves (by requests) and runs each half, down to single requests, teaching the instance's
 * {@link SafeBatchLimit} as it goes; an engine error on a batch of several requests runs its halves
 * again to find the request the model cannot run (one bad input among good ones), which fails alone
 * while the others are answered. A device fault (a broken CUDA context) fails the batch, runs
 * nothing more of it, and is reported to the instance, which must be loaded again.
 */
final class BatchExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(BatchExecutor.class);

    private final String label;
    private final int instance;
    private final boolean batched;
    private final BatchLayout layout;
    private final ModelStats stats;
    private final NanoClock clock;
    private final SafeBatchLimit limit;
    private final BatchPolicy policy;
    private volatile String lastError;
    /** Successful runs so far, up to {@link ModelInstance#RECENT_RUNS}. */
    private volatile int runs;
    /** One bit per recent successful run, the latest lowest: set when it took over {@link ModelInstance#FAST_RUN_NANOS}. */
    private volatile int slowRuns;
    // One batch runs at a time (the scheduler hands a batch to an idle instance only), and whoever
    // runs the next one got it through the scheduler's lock or the instance's mailbox after this one.
    private boolean deviceFault;
    /** What the requests of a batch whose run broke the device are told; set with {@link #deviceFault}. */
    private ServingException.Internal deviceError;

    /**
     * @param label the model version in messages, e.g. {@code resnet50/1}
     * @param instance the instance it runs for (0-based), as the policy knows it
     * @param batched whether the model's tensors carry a batch dimension
     * @param layout how the requests' inputs become the model's
     * @param policy learns the rows and compute time of each successful run
     */
    BatchExecutor(String label, int instance, boolean batched, BatchLayout layout, ModelStats stats, NanoClock clock,
            SafeBatchLimit limit, BatchPolicy policy) {
        this.label = label;
        this.instance = instance;
        this.batched = batched;
        this.layout = layout;
        this.stats = stats;
        this.clock = clock;
        this.limit = limit;
        this.policy = policy;
    }

    /** Whether a device fault happened since the last call: the model must not run again. Clears it. */
    boolean takeDeviceFault() {
        boolean fault = deviceFault;
        deviceFault = false;
        return fault;
    }

    /**
     * Whether the model has run {@link ModelInstance#RECENT_RUNS} times and at most {@link
     * ModelInstance#SLOW_RUNS_ALLOWED} of the last {@link ModelInstance#RECENT_RUNS} runs took over
     * {@link ModelInstance#FAST_RUN_NANOS}: a few runs a busy machine made slow do not count against
     * a fast model, a model that is usually slower does not pass.
     */
    boolean recentRunsFast() {
        int mask = (1 << ModelInstance.RECENT_RUNS) - 1;
        return runs >= ModelInstance.RECENT_RUNS && Integer.bitCount(slowRuns & mask) <= ModelInstance.SLOW_RUNS_ALLOWED;
    }

    /** The last failure's message, or null. */
    String lastError() {
        return lastError;
    }

    /**
     * Runs {@code batch} and answers each of its requests.
     *
     * @return false when the instance may be broken: a run failed for a reason other than memory,
     *     and not for one request's input among others that ran
     */
    boolean execute(LoadedModel model, List<PendingRequest> batch) {
        return execute(model, batch, false);
    }

    /**
     * Records how long each request of a batch waited, from its arrival until its batch starts on
     * this instance (hand-offs included), then runs it as {@link #execute(LoadedModel, List)}.
     */
    boolean run(LoadedModel model, List<PendingRequest> batch) {
        return execute(model, batch, true);
    }

    private boolean execute(LoadedModel model, List<PendingRequest> batch, boolean recordQueue) {
        if (recordQueue) {
            long now = clock.nanoTime();
            for (PendingRequest r : batch) {
                stats.recordQueue(now - r.enqueuedNanos());
            }
        }
        return settle(model, batch, attempt(model, batch));
    }

    /**
     * Runs {@code batch} once. When the run succeeds, answers every request of it and returns null;
     * when it fails, answers none and returns what it threw, for {@link #settle}.
     */
    private Throwable attempt(LoadedModel model, List<PendingRequest> batch) {
        int rows = rows(batch);
        List<List<Tensor>> answers;
        long start;
        long ns;
        try {
            List<Tensor> inputs = BatchTensors.gather(batch, rows, layout);
            start = clock.nanoTime();
            List<Tensor> outputs = model.infer(inputs);
            ns = clock.nanoTime() - start;
            answers = BatchTensors.split(outputs, batch, rows, batched);
            stats.recordExecution(rows, ns);
            slowRuns = slowRuns << 1 | (ns > ModelInstance.FAST_RUN_NANOS ? 1 : 0);
            runs = Math.min(runs + 1, ModelInstance.RECENT_RUNS);
        } catch (RuntimeException | Error e) {
            return e;
        }
        limit.succeeded(rows);
        // Before the answers: their clients may send again at once, and the policy must not count
        // them twice.
        tell(batch, () -> policy.batchRan(instance, batch, ns, clock.nanoTime()));
        for (int i = 0; i < batch.size(); i++) {
            PendingRequest r = batch.get(i);
            r.succeed(answers.get(i), start, ns);
        }
        return null;
    }

    /**
     * Answers the requests of a run that {@code failure} ended (none left when it is null), as that
     * kind of failure asks: the halves run again for memory or for an engine error among several
     * requests; the rest fail.
     *
     * @return false when the instance may be broken: something failed, for a reason other than
     *     memory, and no part of the batch ran
     */
    private boolean settle(LoadedModel model, List<PendingRequest> batch, Throwable failure) {
        return switch (failure) {
            case null -> true;
            case EngineException e when e.outOfMemory() -> outOfMemory(model, batch, rows(batch), e);
            case EngineException e when e.deviceFault() -> {
                deviceFault = true;
                deviceError = new ServingException.Internal("model " + label + " failed: " + e.getMessage()
                        + " (the GPU's context is broken; the instance is being loaded again)", e);
                yield failed(batch, deviceError);
            }
            case EngineException e when batch.size() > 1 -> isolate(model, batch, e);
            case EngineException e -> failed(batch, engineFailure(e));
            case BatchTensors.RowMismatch e ->
                    failed(batch, new ServingException.Internal("model " + label + " failed: " + e.getMessage(), e));
            default -> {
                // Whatever went wrong, the thread lives on and every request gets an answer.
                LOG.error("model {}: unexpected failure running a batch of {} rows", label, rows(batch), failure);
                yield failed(batch, new ServingException.Internal("model " + label + " failed with an internal error",
                        failure));
            }
        };
    }

    /**
     * A batch of several requests failed with an engine error (not memory, not the device): one bad
     * input fails the whole run, so its halves run again and the one that still fails is split further,
     * until the request the model cannot run fails alone and every other is answered. When both halves
     * fail, the fault is not one request's (the model fails every input, or several are bad): their
     * requests fail with no more runs. Finding one bad request among n takes about 2·log2(n) runs; a
     * model that fails everything costs two more runs per batch.
     *
     * @return true when some part of the batch ran: the instance works, whatever its inputs
     */
    private boolean isolate(LoadedModel model, List<PendingRequest> batch, EngineException failure) {
        LOG.debug("model {}: a batch of {} requests failed ({}); running its halves again", label, batch.size(),
                failure.getMessage());
        int half = batch.size() / 2;
        List<PendingRequest> first = batch.subList(0, half);
        List<PendingRequest> second = batch.subList(half, batch.size());
        Throwable a = attempt(model, first);
        if (a == null) {
            settle(model, second, attempt(model, second));
            return true;
        }
        if (!plainFailure(a)) {
            // Memory, the device or a bug: the first half is settled as any batch, then the second runs.
            boolean ok = settle(model, first, a);
            if (deviceFault) {
                return failed(second, deviceError);
            }
            return settle(model, second, attempt(model, second)) && ok;
        }
        Throwable b = attempt(model, second);
        if (b == null) {
            settle(model, first, a);
            return true;
        }
        failed(first, engineFailure((EngineException) a));
        if (plainFailure(b)) {
            return failed(second, engineFailure((EngineException) b));
        }
        return settle(model, second, b);
    }

    /** An engine error that is the model's answer to these inputs: not memory, not the device. */
    private static boolean plainFailure(Throwable failure) {
        return failure instanceof EngineException e && !e.outOfMemory() && !e.deviceFault();
    }

    private ServingException.Internal engineFailure(EngineException e) {
        return new ServingException.Internal("model " + label + " failed: " + e.getMessage(), e);
    }

    private static int rows(List<PendingRequest> batch) {
        int rows = 0;
        for (PendingRequest r : batch) {
            rows += r.rows();
        }
        return rows;
    }

    /** Tells the policy about a run; a bug there costs no batch and no instance. */
    private void tell(List<PendingRequest> batch, Runnable news) {
        try {
            news.run();
        } catch (RuntimeException e) {
            LOG.error("model {}: the batch policy failed on the news of a run of {} requests", label, batch.size(), e);
        }
    }

    private boolean outOfMemory(LoadedModel model, List<PendingRequest> batch, int rows, EngineException e) {
        limit.outOfMemory(rows);
        lastError = e.getMessage();
        if (batch.size() == 1) {
            tell(batch, () -> policy.batchFailed(instance, batch));
            batch.get(0).fail(new ServingException.ResourceExhausted("model " + label + " ran out of memory on a"
                    + " request of " + rows + " rows: " + e.getMessage()));
            return true;
        }
        LOG.warn("model {}: out of memory on a batch of {} rows, retrying it in halves", label, rows);
        int half = batch.size() / 2;
        boolean first = execute(model, batch.subList(0, half));
        if (deviceFault) {
            return failed(batch.subList(half, batch.size()), deviceError);
        }
        boolean second = execute(model, batch.subList(half, batch.size()));
        return first && second;
    }

    private boolean failed(List<PendingRequest> batch, ServingException error) {
        lastError = error.getMessage();
        tell(batch, () -> policy.batchFailed(instance, batch));
        for (PendingRequest r : batch) {
            r.fail(error);
        }
        return false;
    }
}
