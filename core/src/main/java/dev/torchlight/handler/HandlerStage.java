package dev.torchlight.handler;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stage between the front ends and the scheduler for models with a handler: extracts a
 * request's items, preprocesses them into one batch, runs the model through the
 * model version the request resolved to (so the scheduler batches it with other requests) and postprocesses each
 * item's outputs. Extraction, preprocessing and postprocessing run on this stage's own pool, never
 * on a network thread nor on the model's worker thread, so decoding overlaps inference.
 *
 * <p>Models with the tensor handler never come here: front ends send their tensors straight to the
 * version they resolved to. Handlers are created on a model's first request (or by {@link #prepare})
 * and replaced when the model's config changes.
 */
public final class HandlerStage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandlerStage.class);
    /** Requests waiting for a preprocessing thread per thread, beyond which new ones are refused. */
    static final int QUEUE_PER_THREAD = 256;

    /** A handler created for one config of a model; a failure is kept so every request names it. */
    private record Bound(ModelConfig config, Handler handler, ServingException failure) {}

    private final Function<String, Path> modelDirectory;
    private final HandlerFactory factory;
    private final ThreadPoolExecutor pool;
    private final Map<String, Bound> handlers = new ConcurrentHashMap<>();

    /**
     * @param modelDirectory the folder of a model, by name
     * @param threads preprocessing threads; 0 picks {@link #defaultThreads()}
     */
    public HandlerStage(Function<String, Path> modelDirectory, HandlerFactory factory, int threads) {
        this.modelDirectory = Objects.requireNonNull(modelDirectory, "modelDirectory");
        this.factory = Objects.requireNonNull(factory, "factory");
        int n = threads > 0 ? threads : defaultThreads();
        AtomicInteger count = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(n, n, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(n * QUEUE_PER_THREAD),
                r -> {
                    Thread t = new Thread(r, "preprocess-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /** A quarter of the cores, at least one: image decoding keeps up with a CPU model on far less. */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
    }

    /** Whether requests for {@code config}'s model go through this stage. */
    public static boolean handles(ModelConfig config) {
        return config != null && !(config.handler() instanceof HandlerSpec.Tensors);
    }

    /** Creates the handlers of these loaded models now, logging those that fail, so the first request is not slow. */
    public void prepare(List<ServedModel> models) {
        for (ServedModel model : models) {
            ServedVersion served = model.defaultServed();
            if (handles(served.config())) {
                Bound bound = bind(served.config());
                if (bound.failure() != null) {
                    LOG.error("model {}: handler not available: {}", model.name(), bound.failure().getMessage());
                }
            }
        }
    }

    /**
     * Runs one request through the handler of the version it resolved to.
     *
     * @param target the model version, held by the caller until the answer completes
     * @param priority priority level, 0 for the model's default
     * @param timeoutMicros queueing deadline, 0 for the model's default
     * @param source extracts the request's items; runs on the preprocessing pool
     * @return the answers; fails with a {@link ServingException}. May throw one for a version that
     *     is not ready.
     */
    public CompletableFuture<HandlerAnswer> submit(ServedVersion target, int priority, long timeoutMicros,
            ItemSource source) {
        ModelConfig config = target.config();
        if (config == null) {
            throw new ServingException.NotReady("model '" + target.model() + "' version " + target.version()
                    + " is not ready" + (target.error() != null ? ": " + target.error() : ""));
        }
        ModelRunner runner = inputs -> target.infer(new InferenceRequest(null, inputs, List.of(), priority,
                timeoutMicros)).thenApply(r -> r.outputs());
        CompletableFuture<HandlerAnswer> answer = async(() -> preprocess(config, source))
                .thenCompose(p -> inference(p, runner))
                .thenApplyAsync(r -> postprocess(r, target.model(), target.version()), pool);
        return answer.exceptionallyCompose(HandlerStage::clientFailure);
    }

    /** What preprocessing hands to inference. */
    private record Prepared(Handler handler, ModelConfig config, List<Tensor> inputs, int items) {}

    private record Ran(Prepared prepared, List<Tensor> outputs) {}

    private Prepared preprocess(ModelConfig config, ItemSource source) {
        Handler handler = handlerFor(config);
        List<HandlerItem> items = source.items();
        if (items.isEmpty()) {
            throw new ServingException.InvalidInput("the request holds nothing to send to model '" + config.name()
                    + "'; expected at least one item (a request body, a form field or file)");
        }
        int limit = config.batched() ? config.maxBatchSize() : 1;
        if (items.size() > limit) {
            throw new ServingException.InvalidInput("the request holds " + items.size() + " items but model '"
                    + config.name() + "' takes at most " + limit + " at once");
        }
        List<List<Tensor>> perItem = new ArrayList<>(items.size());
        for (HandlerItem item : items) {
            perItem.add(handler.preprocess(item));
        }
        return new Prepared(handler, config, ItemBatch.stack(perItem, config.batched()), items.size());
    }

    private CompletableFuture<Ran> inference(Prepared p, ModelRunner runner) {
        return p.handler().inference(p.inputs(), runner).thenApply(outputs -> new Ran(p, outputs));
    }

    private static HandlerAnswer postprocess(Ran r, String model, long version) {
        Prepared p = r.prepared();
        List<List<Tensor>> perItem = ItemBatch.split(r.outputs(), p.items(), p.config().batched());
        List<Object> answers = new ArrayList<>(perItem.size());
        for (List<Tensor> outputs : perItem) {
            Object answer = p.handler().postprocess(outputs);
            if (answer == null) {
                throw new ServingException.Internal("the handler of model '" + model + "' answered nothing", null);
            }
            answers.add(answer);
        }
        return new HandlerAnswer(model, version, answers);
    }

    private <T> CompletableFuture<T> async(Supplier<T> task) {
        try {
            return CompletableFuture.supplyAsync(task, pool);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(pool.isShutdown()
                    ? new ServingException.NotReady("the server is shutting down")
                    : new ServingException.Overloaded("too many requests are waiting for preprocessing ("
                            + pool.getQueue().size() + "); retry later"));
        }
    }

    /** Failures from handler code that are not {@link ServingException}s become internal errors, logged once. */
    private static <T> CompletableFuture<T> clientFailure(Throwable failure) {
        Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (t instanceof ServingException) {
            return CompletableFuture.failedFuture(t);
        }
        LOG.error("handler failed", t);
        return CompletableFuture.failedFuture(new ServingException.Internal("the model's handler failed: " + t, t));
    }

    private Handler handlerFor(ModelConfig config) {
        Bound bound = handlers.get(config.name());
        if (bound == null || bound.config() != config) {
            bound = bind(config);
        }
        if (bound.failure() != null) {
            throw bound.failure();
        }
        return bound.handler();
    }

    /** Creates (once per config) and remembers the handler, closing the one it replaces. */
    private Bound bind(ModelConfig config) {
        return handlers.compute(config.name(), (name, old) -> {
            if (old != null && old.config() == config) {
                return old;
            }
            if (old != null && old.handler() != null) {
                closeQuietly(old.handler());
            }
            try {
                Handler handler = factory.create(new HandlerContext(modelDirectory.apply(name), config));
                return new Bound(config, handler, null);
            } catch (ServingException e) {
                return new Bound(config, null, e);
            } catch (RuntimeException | LinkageError e) {
                LOG.error("model {}: cannot create its handler", name, e);
                return new Bound(config, null, new ServingException.NotReady(
                        "model '" + name + "': its handler could not be created: " + e));
            }
        });
    }

    /** Stops the pool after the queued work and closes every handler. */
    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.shutdownNow();
        }
        handlers.values().forEach(b -> {
            if (b.handler() != null) {
                closeQuietly(b.handler());
            }
        });
        handlers.clear();
    }

    private static void closeQuietly(Handler handler) {
        try {
            handler.close();
        } catch (RuntimeException e) {
            LOG.warn("closing handler {} failed", handler.getClass().getName(), e);
        }
    }
}
