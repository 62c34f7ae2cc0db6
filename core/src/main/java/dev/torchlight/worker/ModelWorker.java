package dev.torchlight.worker;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.metrics.ModelStats;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model instance and the platform thread that runs it. Native engine calls block, so they run
 * here and never on an I/O thread; jobs run one at a time in arrival order.
 */
public final class ModelWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelWorker.class);

    private record Job(List<Tensor> inputs, int rows, long enqueuedNanos, CompletableFuture<List<Tensor>> result) {}

    private static final Job STOP = new Job(List.of(), 0, 0, new CompletableFuture<>());

    private final String label;
    private final LoadedModel model;
    private final ModelStats stats;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Starts the worker thread.
     *
     * @param label names the thread and log lines, e.g. {@code mlp/1#0}
     * @param stats where queue and compute times are recorded
     */
    public ModelWorker(String label, LoadedModel model, ModelStats stats) {
        this.label = label;
        this.model = model;
        this.stats = stats;
        this.thread = Thread.ofPlatform().name("worker-" + label).daemon(true).unstarted(this::run);
        thread.start();
    }

    /**
     * Queues one run. The future completes on the worker thread with the outputs, or exceptionally
     * with a {@link ServingException}.
     *
     * @param rows rows in this run (the batch dimension, or 1), for the statistics
     */
    public CompletableFuture<List<Tensor>> submit(List<Tensor> inputs, int rows) {
        CompletableFuture<List<Tensor>> result = new CompletableFuture<>();
        synchronized (queue) {
            if (!closed) {
                queue.add(new Job(inputs, rows, System.nanoTime(), result));
                return result;
            }
        }
        result.completeExceptionally(new ServingException.NotReady("model " + label + " is shutting down"));
        return result;
    }

    private void run() {
        while (true) {
            Job job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                break;
            }
            if (job == STOP) {
                break;
            }
            execute(job);
        }
        model.close();
    }

    private void execute(Job job) {
        long start = System.nanoTime();
        stats.recordQueue(start - job.enqueuedNanos);
        try {
            List<Tensor> outputs = model.infer(job.inputs);
            stats.recordExecution(job.rows, System.nanoTime() - start);
            job.result.complete(outputs);
        } catch (EngineException e) {
            job.result.completeExceptionally(new ServingException.Internal(
                    "model " + label + " failed: " + e.getMessage(), e));
        } catch (RuntimeException | Error e) {
            LOG.error("worker {}: unexpected failure", label, e);
            job.result.completeExceptionally(new ServingException.Internal(
                    "model " + label + " failed with an internal error", e));
        }
    }

    /** Runs what is queued, then releases the model. Waits for the thread to finish. */
    @Override
    public void close() {
        synchronized (queue) {
            if (!closed) {
                closed = true;
                queue.add(STOP);
            }
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
