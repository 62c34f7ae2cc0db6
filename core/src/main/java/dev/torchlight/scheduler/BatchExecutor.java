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
 * only that batch's requests. An out-of-memory error splits the batch in halves (by requests) and
 * runs each half, down to single requests, teaching the instance's {@link SafeBatchLimit} as it goes.
 * A device fault (a broken CUDA context) fails the batch, runs nothing more of it, and is reported to
 * the instance, which must be loaded again.
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
    // Only the instance's thread runs batches, so this needs no synchronisation.
    private boolean deviceFault;

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

    /** The last failure's message, or null. */
    String lastError() {
        return lastError;
    }

    /**
     * Runs {@code batch} and answers each of its requests.
     *
     * @return false when some part of it failed for a reason other than memory: the instance may be
     *     broken
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
        int rows = 0;
        for (PendingRequest r : batch) {
            rows += r.rows();
        }
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
        } catch (EngineException e) {
            if (e.outOfMemory()) {
                return outOfMemory(model, batch, rows, e);
            }
            if (e.deviceFault()) {
                deviceFault = true;
                return failed(batch, new ServingException.Internal("model " + label + " failed: " + e.getMessage()
                        + " (the GPU's context is broken; the instance is being loaded again)", e));
            }
            return failed(batch, new ServingException.Internal("model " + label + " failed: " + e.getMessage(), e));
        } catch (BatchTensors.RowMismatch e) {
            return failed(batch, new ServingException.Internal("model " + label + " failed: " + e.getMessage(), e));
        } catch (RuntimeException | Error e) {
            // Whatever went wrong, the thread lives on and every request gets an answer.
            LOG.error("model {}: unexpected failure running a batch of {} rows", label, rows, e);
            return failed(batch, new ServingException.Internal("model " + label + " failed with an internal error", e));
        }
        limit.succeeded(rows);
        // Before the answers: their clients may send again at once, and the policy must not count
        // them twice.
        tell(batch, () -> policy.batchRan(instance, batch, ns, clock.nanoTime()));
        for (int i = 0; i < batch.size(); i++) {
            PendingRequest r = batch.get(i);
            r.succeed(answers.get(i), start, ns);
        }
        return true;
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
            return failed(batch.subList(half, batch.size()), new ServingException.Internal("model " + label
                    + " failed: " + lastError + " (the GPU's context is broken; the instance is being loaded again)", null));
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
