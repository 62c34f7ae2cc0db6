package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import dev.torchlight.engine.Engine;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.NanoClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model lifecycle: loads, reloads, scales and unloads models, and publishes what serves to the
 * routing table ({@link #routes()}). Changes to one model are serialized by that model's lock;
 * different models change in parallel (start-up and repository scans load them side by side), and
 * nothing here ever blocks inference or a change to another model.
 *
 * <p>Changes never disturb traffic: a new or changed version is loaded and warmed up beside the
 * serving ones, one publish routes new requests to it, and only then is what it replaced retired:
 * once the requests that hold it are answered, its queue is drained and its instances released. A
 * version that fails to load leaves the copy that was serving in place. A model whose config or
 * files are broken is kept as failed so clients and probes can see why; the others serve.
 */
public final class ModelManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelManager.class);

    private final ModelRoutes routes = new ModelRoutes();
    private final ModelLoad load;
    private final Map<String, ModelRecord> records = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ParallelLoads parallel = new ParallelLoads();
    private volatile boolean closed;

    /** @param clock times queues, deadlines and statistics */
    public ModelManager(Engine engine, NanoClock clock, LoadOptions options) {
        this.load = new ModelLoad(new VersionLoader(engine, clock, options));
    }

    /** What serves now: the front ends' view of the models. */
    public ModelService routes() {
        return routes;
    }

    /**
     * Loads (or reloads) a model from its folder and makes it visible. Versions whose files and
     * config are unchanged keep serving untouched; new or changed ones are loaded and warmed up,
     * then swapped in; versions gone from disk or from the version policy are drained and released.
     * Failures are logged and recorded against that model only.
     */
    public LoadOutcome load(ModelSource source) {
        return changing(source.name(), () -> apply(source, countsOf(source.name())));
    }

    /**
     * Registers a model, or more versions of a known one (TorchServe's {@code POST /models}): loads
     * the versions of {@code source} that are not loaded yet, each on {@code instances} instances
     * (0: the model's count), and leaves the loaded ones as they are.
     */
    public LoadOutcome register(ModelSource source, int instances) {
        if (instances < 0) {
            throw new ServingException.InvalidInput("instance count must be 0 (the config's) or more, got " + instances);
        }
        return changing(source.name(), () -> {
            ServedModel served = routes.find(source.name());
            InstanceCounts counts = countsOf(source.name());
            for (long v : source.versions().keySet()) {
                boolean loaded = served != null && served.versions().get(v) instanceof LoadedVersion;
                if (instances > 0 && !loaded) {
                    counts = counts.with(v, instances);
                }
            }
            return apply(source, counts);
        });
    }

    /**
     * Makes a new model known at once, its versions loading, before a {@link #load} in the
     * background loads it (TorchServe's asynchronous registration answers before its workers start).
     * A known model is left as it is.
     */
    public void announce(ModelSource source) {
        changing(source.name(), () -> {
            if (routes.find(source.name()) == null) {
                routes.publish(loading(source));
            }
            return null;
        });
    }

    /** Loads every model of {@code sources}, side by side; one outcome per model, in order. */
    public List<LoadOutcome> loadAll(List<ModelSource> sources) {
        return parallel.run(sources.stream().<Callable<LoadOutcome>>map(s -> () -> load(s)).toList());
    }

    /**
     * Brings the models in line with the repository: loads new models and reloads changed ones side
     * by side, and unloads models whose folders are gone. A model whose files did not change is not
     * touched.
     *
     * @param sources every model folder of the repository now
     * @return one outcome per model loaded or reloaded
     */
    public List<LoadOutcome> reconcile(List<ModelSource> sources) {
        Set<String> present = new HashSet<>();
        List<Callable<LoadOutcome>> changes = new ArrayList<>();
        for (ModelSource source : sources) {
            present.add(source.name());
            ModelRecord record = records.get(source.name());
            if (record == null || record.changedOnDisk(source)) {
                changes.add(() -> load(source));
            }
        }
        for (String name : List.copyOf(records.keySet())) {
            if (!present.contains(name)) {
                LOG.info("model {}: its folder is gone; unloading it", name);
                changing(name, () -> {
                    unloadLocked(name);
                    return null;
                });
            }
        }
        return parallel.run(changes);
    }

    /**
     * Removes a model: it stops taking requests at once; what it has queued or running is answered,
     * then its instances are released.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public void unload(String model) {
        changing(model, () -> {
            routes.model(model);
            unloadLocked(model);
            return null;
        });
    }

    /**
     * Removes one version; removing the last one removes the model.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public void unload(String model, long version) {
        changing(model, () -> {
            ServedModel served = routes.model(model);
            ServedVersion gone = served.version(version);
            if (served.versions().size() == 1) {
                unloadLocked(model);
                return null;
            }
            routes.publish(served.without(version));
            records.computeIfPresent(model, (n, r) -> r.without(version));
            retire(List.of(gone));
            LOG.info("model {} version {} unloaded", model, version);
            return null;
        });
    }

    /**
     * Makes {@code version} the one that requests without a version go to.
     *
     * @throws ServingException.NotFound for an unknown model or version
     * @throws ServingException.InvalidInput when that version is not ready
     */
    public void setDefault(String model, long version) {
        changing(model, () -> {
            ServedModel served = routes.model(model);
            ServedVersion target = served.version(version);
            if (target.state() != ModelState.READY) {
                throw new ServingException.InvalidInput("model '" + model + "' version " + version + " is not ready ("
                        + target.state() + "); only a ready version can be the default");
            }
            routes.publish(served.withDefault(version));
            LOG.info("model {}: default version is now {}", model, version);
            return null;
        });
    }

    /**
     * Splits the requests for {@code model} that name no version among its versions by weight, from
     * now on; reloads of the weighted versions keep the split. Requests in flight are untouched.
     *
     * @param weights weight per version name ({@code 1.0}) or number
     * @param stickyHeader the request header whose value keeps a caller on one version, or null
     * @return the split now in force
     * @throws ServingException.NotFound for an unknown model
     * @throws ServingException.InvalidInput naming what is wrong with the weights or the header
     */
    public TrafficSplit setTraffic(String model, Map<String, Integer> weights, String stickyHeader) {
        return changing(model, () -> {
            ServedModel served = routes.model(model);
            TrafficSplit split = TrafficSplit.of(served, weights, stickyHeader);
            routes.publish(served.withTraffic(split));
            LOG.info("model {}: traffic split {}{}", model, split.weights(),
                    split.stickyHeader() == null ? "" : " sticky by " + split.stickyHeader());
            return split;
        });
    }

    /**
     * Sends every request for {@code model} that names no version to its default version again.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public void clearTraffic(String model) {
        changing(model, () -> {
            ServedModel served = routes.model(model);
            if (served.traffic() != null) {
                routes.publish(served.withTraffic(null));
                LOG.info("model {}: traffic split cleared; requests go to the default version", model);
            }
            return null;
        });
    }

    /**
     * Runs every version of {@code model} on {@code count} instances: each version is reloaded with
     * that many instances beside the serving one, then swapped in.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public LoadOutcome scale(String model, int count) {
        requireInstances(count);
        return changing(model, () -> {
            routes.model(model);
            ModelRecord record = records.get(model);
            return apply(record.source(), record.instances().everywhere(count));
        });
    }

    /**
     * Runs one version of {@code model} on {@code count} instances, reloaded beside the serving copy
     * and swapped in; the other versions keep their instances.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public LoadOutcome scale(String model, long version, int count) {
        requireInstances(count);
        return changing(model, () -> {
            routes.model(model).version(version);
            ModelRecord record = records.get(model);
            return apply(record.source(), record.instances().with(version, count));
        });
    }

    /** The folder the model was loaded from. */
    public ModelSource source(String model) {
        routes.model(model);
        ModelRecord record = records.get(model);
        if (record == null) {
            throw new ServingException.NotFound("unknown model '" + model + "'");
        }
        return record.source();
    }

    /** Whether a model of that name is known (loaded or failed). */
    public boolean contains(String model) {
        return model != null && routes.find(model) != null;
    }

    /** Readiness turns false from now on, so that load balancers stop routing here; requests still run. */
    public void beginShutdown() {
        routes.beginShutdown();
    }

    /**
     * Runs what is queued, then releases every model; later changes are refused. A load in progress
     * finishes first (every model that ever changed has a lock, taken here in turn), so nothing it
     * loads outlives this.
     */
    @Override
    public void close() {
        closed = true;
        routes.beginShutdown();
        for (String model : List.copyOf(locks.keySet())) {
            withLock(model, () -> {
                unloadLocked(model);
                return null;
            });
        }
    }

    /** Runs {@code change} under the model's lock; refused once closed. */
    private <T> T changing(String model, Callable<T> change) {
        return withLock(model, () -> {
            if (closed) {
                throw new ServingException.NotReady("the server is shutting down; model '" + model
                        + "' cannot change now");
            }
            return change.call();
        });
    }

    private <T> T withLock(String model, Callable<T> work) {
        ReentrantLock lock = locks.computeIfAbsent(model, n -> new ReentrantLock());
        lock.lock();
        try {
            return work.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    private InstanceCounts countsOf(String model) {
        ModelRecord record = records.get(model);
        return record == null ? InstanceCounts.CONFIG : record.instances();
    }

    private static void requireInstances(int count) {
        if (count < 1) {
            throw new ServingException.InvalidInput("instance count must be at least 1, got " + count);
        }
    }

    /**
     * Loads {@code source} against what serves now and publishes the result. Under the model's lock.
     * A new model is listed at once, its versions loading, as TorchServe lists a model whose workers
     * are still starting.
     */
    private LoadOutcome apply(ModelSource source, InstanceCounts counts) {
        String name = source.name();
        ServedModel served = routes.find(name);
        if (served == null) {
            routes.publish(loading(source));
        }
        ModelLoad.Result result = load.run(source, records.get(name), served, counts);
        if (result.record() != null) {
            records.put(name, result.record());
        }
        routes.publish(result.served());
        retire(result.retired());
        return result.outcome();
    }

    /** A new model's stand-in while its first load runs. */
    private static ServedModel loading(ModelSource source) {
        NavigableMap<Long, ServedVersion> versions = new TreeMap<>();
        for (long v : source.versions().keySet()) {
            versions.put(v, new LoadingVersion(source.name(), v, Long.toString(v), null));
        }
        return new ServedModel(source.name(), null, versions, null, null);
    }

    private void unloadLocked(String model) {
        ServedModel removed = routes.remove(model);
        records.remove(model);
        if (removed != null) {
            retire(removed.versions().values());
            LOG.info("model {} unloaded", model);
        }
    }

    /** Drains and releases versions nothing routes to any more. */
    private static void retire(Iterable<ServedVersion> versions) {
        for (ServedVersion version : versions) {
            if (version instanceof LoadedVersion loaded) {
                long start = System.nanoTime();
                loaded.retire();
                LOG.info("model {} version {}: drained and released ({} ms)", loaded.model(), loaded.version(),
                        (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

}
