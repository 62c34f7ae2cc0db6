package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.config.ModelLifecycle;
import dev.torchlight.config.ModelLifecycleParser;
import dev.torchlight.config.VersionPolicy;
import dev.torchlight.engine.Engine;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.NanoClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
    private final VersionLoader loader;
    private final Map<String, ModelRecord> records = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ParallelLoads parallel = new ParallelLoads();
    private volatile boolean closed;

    /** @param clock times queues, deadlines and statistics */
    public ModelManager(Engine engine, NanoClock clock, LoadOptions options) {
        this.loader = new VersionLoader(engine, clock, options);
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
        return changing(source.name(), () -> apply(source, instancesOf(source.name())));
    }

    /** As {@link #load(ModelSource)}, running every version on {@code instances} instances. */
    public LoadOutcome load(ModelSource source, int instances) {
        requireInstances(instances);
        return changing(source.name(), () -> apply(source, instances));
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
     * Runs every version of {@code model} on {@code count} instances: each version is reloaded with
     * that many instances beside the serving one, then swapped in.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public LoadOutcome scale(String model, int count) {
        requireInstances(count);
        return changing(model, () -> {
            routes.model(model);
            return apply(records.get(model).source(), count);
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

    private int instancesOf(String model) {
        ModelRecord record = records.get(model);
        return record == null ? 0 : record.instances();
    }

    private static void requireInstances(int count) {
        if (count < 1) {
            throw new ServingException.InvalidInput("instance count must be at least 1, got " + count);
        }
    }

    /** Loads {@code source} against what serves now and publishes the result. Under the model's lock. */
    private LoadOutcome apply(ModelSource source, int instances) {
        String name = source.name();
        ModelRecord old = records.get(name);
        ServedModel served = routes.find(name);
        String configStamp = FileStamps.of(source.configFile());
        ModelConfig config;
        ModelLifecycle lifecycle;
        try {
            config = ModelConfigParser.parse(source.configFile(), name);
            lifecycle = ModelLifecycleParser.parse(source.configFile(), config);
        } catch (ConfigException e) {
            return failModel(source, served, e.getMessage(), configStamp, instances);
        }
        if (source.versions().isEmpty()) {
            return failModel(source, served, "no version folders in " + source.directory() + "; expected " + name
                    + "/<version>/" + ModelSource.MODEL_FILE, configStamp, instances);
        }
        NavigableSet<Long> wanted = lifecycle.versionPolicy().select(new TreeSet<>(source.versions().keySet()));
        if (wanted.isEmpty()) {
            return failModel(source, served, "version_policy " + VersionPolicy.describe(lifecycle.versionPolicy())
                    + " selects none of the versions on disk " + source.versions().keySet(), configStamp, instances);
        }
        boolean configChanged = old == null || served == null || served.config() == null
                || !configStamp.equals(old.configStamp()) || old.instances() != instances;
        NavigableMap<Long, ServedVersion> next = new TreeMap<>();
        Map<Long, String> stamps = new HashMap<>();
        Map<Long, String> rejected = new HashMap<>();
        List<ServedVersion> retired = new ArrayList<>();
        List<Long> loaded = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (long version : wanted) {
            Path file = source.versions().get(version);
            String stamp = FileStamps.of(file);
            ServedVersion current = served == null ? null : served.versions().get(version);
            boolean serving = current instanceof LoadedVersion;
            if (serving && !configChanged && stamp.equals(old.stamps().get(version))) {
                next.put(version, current);
                stamps.put(version, stamp);
                continue;
            }
            ServedVersion fresh = loader.load(config, lifecycle, instances, version, file);
            if (fresh instanceof LoadedVersion) {
                next.put(version, fresh);
                stamps.put(version, stamp);
                loaded.add(version);
                if (current != null) {
                    retired.add(current);
                }
            } else if (serving) {
                LOG.error("model {} version {}: the new files failed to load; the loaded copy keeps serving", name,
                        version);
                next.put(version, current);
                stamps.put(version, old.stamps().get(version));
                rejected.put(version, stamp);
                failures.add("version " + version + ": " + fresh.error() + " (the previously loaded copy keeps serving)");
            } else {
                next.put(version, fresh);
                stamps.put(version, stamp);
                rejected.put(version, stamp);
                failures.add("version " + version + ": " + fresh.error());
            }
        }
        if (served != null) {
            served.versions().forEach((v, version) -> {
                if (!next.containsKey(v)) {
                    retired.add(version);
                }
            });
        }
        records.put(name, new ModelRecord(source, configStamp, stamps, rejected, instances));
        routes.publish(new ServedModel(name, config, next, served == null ? null : served.defaultVersion(),
                failures.isEmpty() ? null : String.join("; ", failures)));
        retire(retired);
        return new LoadOutcome(name, servingVersions(next), loaded, failures);
    }

    /**
     * A model whose config or folder is unusable: recorded as failed, unless versions of it serve,
     * which then keep serving with the failure reported.
     */
    private LoadOutcome failModel(ModelSource source, ServedModel served, String error, String configStamp,
            int instances) {
        String name = source.name();
        LOG.error("model {} failed to load: {}", name, error);
        if (served != null && !servingVersions(served.versions()).isEmpty()) {
            LOG.error("model {}: the loaded versions keep serving", name);
            records.computeIfPresent(name, (n, r) -> r.withConfigStamp(configStamp));
            routes.publish(new ServedModel(name, served.config(), served.versions(), served.defaultVersion(), error));
            return new LoadOutcome(name, servingVersions(served.versions()), List.of(),
                    List.of(error + " (the loaded versions keep serving)"));
        }
        NavigableMap<Long, ServedVersion> versions = new TreeMap<>();
        Map<Long, String> stamps = new HashMap<>();
        source.versions().forEach((v, file) -> {
            versions.put(v, new FailedVersion(name, v, null, error));
            stamps.put(v, FileStamps.of(file));
        });
        records.put(name, new ModelRecord(source, configStamp, stamps, stamps, instances));
        routes.publish(new ServedModel(name, null, versions, null, error));
        if (served != null) {
            retire(served.versions().values());
        }
        return new LoadOutcome(name, List.of(), List.of(), List.of(error));
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

    private static List<Long> servingVersions(NavigableMap<Long, ServedVersion> versions) {
        return versions.values().stream().filter(v -> v instanceof LoadedVersion).map(ServedVersion::version).toList();
    }
}
