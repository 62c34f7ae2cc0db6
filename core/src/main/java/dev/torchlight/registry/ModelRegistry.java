package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.config.ModelLifecycle;
import dev.torchlight.config.ModelLifecycleParser;
import dev.torchlight.config.VersionPolicy;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstancePlacement;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.scheduler.ModelScheduler;
import dev.torchlight.scheduler.NanoClock;
import dev.torchlight.scheduler.ShapeKey;
import dev.torchlight.scheduler.TimedAnswer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the server knows, each with its versions and their schedulers (queue, batcher and
 * instances). A model whose config or files are broken is kept as failed so clients and probes can
 * see why; the others serve. A loaded version whose instances are all being reloaded reports
 * {@link ModelState#LOADING} until one is back.
 *
 * <p>Changes (load, reload, unload, scaling, default version) are serialized and never disturb
 * traffic: a new or changed version is loaded and warmed up beside the serving ones, then one
 * atomic swap of the model's entry routes new requests to it, and only then is what it replaces
 * drained (its queued and running requests are answered) and released. A version that fails to
 * load leaves the copy that was serving in place. Requests without a version go to the model's
 * default version: the one set with {@link #setDefault}, else the newest ready one.
 */
public final class ModelRegistry implements ModelService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
    /** Submissions that meet a version being drained retry against the model's new entry this often. */
    private static final int SWAP_RETRIES = 3;

    private final Engine engine;
    private final NanoClock clock;
    private final boolean histograms;
    private final boolean warmUp;
    private final Map<String, ModelEntry> models = new ConcurrentSkipListMap<>();
    /** Serializes changes; reads and inference never take it. */
    private final ReentrantLock changes = new ReentrantLock();
    private volatile boolean shuttingDown;

    public ModelRegistry(Engine engine) {
        this(engine, NanoClock.SYSTEM);
    }

    /** @param clock times queues, deadlines and statistics */
    public ModelRegistry(Engine engine, NanoClock clock) {
        this(engine, clock, true, false);
    }

    /**
     * @param clock times queues, deadlines and statistics
     * @param histograms whether each version's {@link ModelStats} keeps latency and batch-size
     *     histograms (metrics on) or only totals
     * @param warmUp whether each instance runs warm-up requests (see {@link Warmup}) before it serves;
     *     the server always does, unit tests that count engine calls do not
     */
    public ModelRegistry(Engine engine, NanoClock clock, boolean histograms, boolean warmUp) {
        this.engine = engine;
        this.clock = clock;
        this.histograms = histograms;
        this.warmUp = warmUp;
    }

    /**
     * Loads (or reloads) a model from its folder and makes it visible. Versions whose files and
     * config are unchanged keep serving untouched; new or changed ones are loaded and warmed up,
     * then swapped in; versions gone from disk or from the version policy are drained and released.
     * Failures are logged and recorded against that model only.
     */
    public LoadOutcome load(ModelSource source) {
        changes.lock();
        try {
            ModelEntry old = models.get(source.name());
            return apply(source, old, old == null ? 0 : old.instances());
        } finally {
            changes.unlock();
        }
    }

    /**
     * As {@link #load(ModelSource)}, running every version on {@code instances} instances.
     */
    public LoadOutcome load(ModelSource source, int instances) {
        if (instances < 1) {
            throw new ServingException.InvalidInput("instance count must be at least 1, got " + instances);
        }
        changes.lock();
        try {
            return apply(source, models.get(source.name()), instances);
        } finally {
            changes.unlock();
        }
    }

    /**
     * Brings the registry in line with the repository: loads new models, reloads changed ones and
     * unloads models whose folders are gone. A model whose files did not change is not touched.
     *
     * @param sources every model folder of the repository now
     * @return what changed, one outcome per model loaded or reloaded
     */
    public List<LoadOutcome> reconcile(List<ModelSource> sources) {
        changes.lock();
        try {
            List<LoadOutcome> outcomes = new ArrayList<>();
            Set<String> present = new java.util.HashSet<>();
            for (ModelSource source : sources) {
                present.add(source.name());
                ModelEntry old = models.get(source.name());
                if (old == null || changed(old, source)) {
                    outcomes.add(apply(source, old, old == null ? 0 : old.instances()));
                }
            }
            for (String name : List.copyOf(models.keySet())) {
                if (!present.contains(name)) {
                    LOG.info("model {}: its folder is gone; unloading it", name);
                    unloadLocked(name);
                }
            }
            return outcomes;
        } finally {
            changes.unlock();
        }
    }

    /** Whether the folder differs from what {@code entry} was loaded from. */
    private static boolean changed(ModelEntry entry, ModelSource source) {
        if (!Objects.equals(entry.configStamp(), stamp(source.configFile()))) {
            return true;
        }
        for (Map.Entry<Long, Path> v : source.versions().entrySet()) {
            VersionSlot slot = entry.versions().get(v.getKey());
            String stamp = stamp(v.getValue());
            if (slot == null ? !stamp.equals(entry.rejected().get(v.getKey()))
                    : !stamp.equals(slot.stamp()) && !stamp.equals(entry.rejected().get(v.getKey()))) {
                return true;
            }
        }
        return !source.versions().keySet().containsAll(entry.versions().keySet());
    }

    /** Loads {@code source} against what {@code old} serves and swaps the result in. Under the lock. */
    private LoadOutcome apply(ModelSource source, ModelEntry old, int instances) {
        String name = source.name();
        String configStamp = stamp(source.configFile());
        ModelConfig config;
        ModelLifecycle lifecycle;
        try {
            config = ModelConfigParser.parse(source.configFile(), name);
            lifecycle = ModelLifecycleParser.parse(source.configFile(), config);
        } catch (ConfigException e) {
            return failModel(source, old, e.getMessage(), configStamp);
        }
        if (source.versions().isEmpty()) {
            return failModel(source, old, "no version folders in " + source.directory()
                    + "; expected " + name + "/<version>/" + ModelSource.MODEL_FILE, configStamp);
        }
        NavigableSet<Long> wanted = lifecycle.versionPolicy().select(new java.util.TreeSet<>(source.versions().keySet()));
        if (wanted.isEmpty()) {
            return failModel(source, old, "version_policy " + VersionPolicy.describe(lifecycle.versionPolicy())
                    + " selects none of the versions on disk " + source.versions().keySet(), configStamp);
        }
        boolean configChanged = old == null || !configStamp.equals(old.configStamp()) || old.instances() != instances
                || old.config() == null;
        NavigableMap<Long, VersionSlot> next = new TreeMap<>();
        Map<Long, String> rejected = new HashMap<>();
        List<VersionSlot> retired = new ArrayList<>();
        List<Long> loaded = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (long version : wanted) {
            Path file = source.versions().get(version);
            String stamp = stamp(file);
            VersionSlot current = old == null ? null : old.versions().get(version);
            boolean serving = current != null && current.state() == ModelState.READY;
            if (serving && !configChanged && stamp.equals(current.stamp())) {
                next.put(version, current);
                continue;
            }
            VersionSlot fresh = loadVersion(config, lifecycle, instances, version, file, stamp);
            if (fresh.state() == ModelState.READY) {
                next.put(version, fresh);
                loaded.add(version);
                if (current != null) {
                    retired.add(current);
                }
            } else if (serving) {
                LOG.error("model {} version {}: the new files failed to load; the loaded copy keeps serving", name,
                        version);
                next.put(version, current);
                rejected.put(version, stamp);
                failures.add("version " + version + ": " + fresh.error() + " (the previously loaded copy keeps serving)");
            } else {
                next.put(version, fresh);
                rejected.put(version, stamp);
                failures.add("version " + version + ": " + fresh.error());
            }
        }
        if (old != null) {
            old.versions().forEach((v, slot) -> {
                if (!next.containsKey(v)) {
                    retired.add(slot);
                }
            });
        }
        Long defaultVersion = old != null && old.defaultVersion() != null && next.containsKey(old.defaultVersion())
                ? old.defaultVersion() : null;
        String lastError = failures.isEmpty() ? null : String.join("; ", failures);
        models.put(name, new ModelEntry(name, config, null, next, defaultVersion, instances, source, configStamp,
                rejected, lastError));
        retire(name, retired);
        return new LoadOutcome(name, servingVersions(next), loaded, failures);
    }

    /** Drains and releases replaced versions, after the swap that stopped routing to them. */
    private static void retire(String name, List<VersionSlot> retired) {
        for (VersionSlot slot : retired) {
            if (slot.scheduler() != null) {
                long start = System.nanoTime();
                slot.scheduler().close();
                LOG.info("model {} version {}: drained and released ({} ms)", name, slot.version(),
                        (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

    private static List<Long> servingVersions(NavigableMap<Long, VersionSlot> versions) {
        return versions.values().stream().filter(s -> s.state() == ModelState.READY).map(VersionSlot::version).toList();
    }

    /** @param instances instance count set by scaling, or 0 for the config's {@code instance_group} */
    private VersionSlot loadVersion(ModelConfig config, ModelLifecycle lifecycle, int instances, long version,
            Path file, String stamp) {
        String label = config.name() + "/" + version;
        if (!Files.isRegularFile(file)) {
            return failed(label, version, "model file " + file + " not found", config, stamp);
        }
        long start = System.nanoTime();
        try {
            // Scaling changes how many instances run, never the config: handler and groups stay as written.
            List<Placement> placements = InstancePlacement.of(config, engine.gpuCount());
            if (instances > 0) {
                placements = InstancePlacement.scaled(placements, instances);
            }
            ModelStats stats = new ModelStats(config.maxBatchSize(), histograms);
            ModelScheduler scheduler = ModelScheduler.start(config, version, placements,
                    placement -> loadInstance(config, lifecycle, file, placement), stats, clock);
            LOG.info("loaded model {} version {} ({}, {} instance(s) on {}{}, {} ms)", config.name(), version,
                    engine.name(), placements.size(), placements, warmUp ? ", warmed up" : "",
                    (System.nanoTime() - start) / 1_000_000);
            return new VersionSlot(version, ModelState.READY, null, scheduler, stats, config, stamp);
        } catch (RuntimeException e) {
            return failed(label, version, e.getMessage() == null ? e.toString() : e.getMessage(), config, stamp);
        }
    }

    /** Loads one instance and, when asked, warms it up; a failed warm-up releases it and fails the load. */
    private LoadedModel loadInstance(ModelConfig config, ModelLifecycle lifecycle, Path file, Placement placement) {
        LoadedModel model = engine.load(config, file, placement);
        if (!warmUp) {
            return model;
        }
        try {
            Warmup.run(model, config, lifecycle.warmup());
            return model;
        } catch (RuntimeException e) {
            model.close();
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new IllegalStateException("warm-up failed: " + why, e);
        }
    }

    private static VersionSlot failed(String label, long version, String error, ModelConfig config, String stamp) {
        LOG.error("model {} failed to load: {}", label, error);
        return new VersionSlot(version, ModelState.FAILED, error, null, null, config, stamp);
    }

    /**
     * A model whose config or folder is unusable: recorded as failed, unless versions of it serve,
     * which then keep serving with the failure reported.
     */
    private LoadOutcome failModel(ModelSource source, ModelEntry old, String error, String configStamp) {
        LOG.error("model {} failed to load: {}", source.name(), error);
        if (old != null && !servingVersions(old.versions()).isEmpty()) {
            LOG.error("model {}: the loaded versions keep serving", source.name());
            models.put(source.name(), old.withLastError(error, configStamp));
            return new LoadOutcome(source.name(), servingVersions(old.versions()), List.of(),
                    List.of(error + " (the loaded versions keep serving)"));
        }
        NavigableMap<Long, VersionSlot> versions = new TreeMap<>();
        source.versions().keySet().forEach(v -> versions.put(v,
                new VersionSlot(v, ModelState.FAILED, error, null, null, null, stamp(source.versions().get(v)))));
        Map<Long, String> rejected = new HashMap<>();
        versions.forEach((v, slot) -> rejected.put(v, slot.stamp()));
        models.put(source.name(), new ModelEntry(source.name(), null, error, versions, null, 0, source, configStamp,
                rejected, error));
        if (old != null) {
            retire(source.name(), List.copyOf(old.versions().values()));
        }
        return new LoadOutcome(source.name(), List.of(), List.of(), List.of(error));
    }

    /**
     * Removes a model: it stops taking requests at once; what it has queued or running is answered,
     * then its instances are released.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public void unload(String model) {
        changes.lock();
        try {
            entry(model);
            unloadLocked(model);
        } finally {
            changes.unlock();
        }
    }

    private void unloadLocked(String model) {
        ModelEntry removed = models.remove(model);
        if (removed != null) {
            retire(model, List.copyOf(removed.versions().values()));
            LOG.info("model {} unloaded", model);
        }
    }

    /**
     * Removes one version; removing the last one removes the model.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public void unload(String model, long version) {
        changes.lock();
        try {
            ModelEntry entry = entry(model);
            VersionSlot slot = slot(entry, version);
            if (entry.versions().size() == 1) {
                unloadLocked(model);
                return;
            }
            NavigableMap<Long, VersionSlot> next = new TreeMap<>(entry.versions());
            next.remove(version);
            models.put(model, entry.withVersions(next));
            retire(model, List.of(slot));
            LOG.info("model {} version {} unloaded", model, version);
        } finally {
            changes.unlock();
        }
    }

    /**
     * Makes {@code version} the one that requests without a version go to.
     *
     * @throws ServingException.NotFound for an unknown model or version
     * @throws ServingException.InvalidInput when that version is not ready
     */
    public void setDefault(String model, long version) {
        changes.lock();
        try {
            ModelEntry entry = entry(model);
            VersionSlot slot = slot(entry, version);
            if (slot.currentState() != ModelState.READY) {
                throw new ServingException.InvalidInput("model '" + model + "' version " + version
                        + " is not ready (" + slot.currentState() + "); only a ready version can be the default");
            }
            models.put(model, entry.withDefault(version));
            LOG.info("model {}: default version is now {}", model, version);
        } finally {
            changes.unlock();
        }
    }

    /**
     * Runs every version of {@code model} on {@code count} instances: each version is reloaded with
     * that many instances beside the serving one, then swapped in.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public LoadOutcome scale(String model, int count) {
        if (count < 1) {
            throw new ServingException.InvalidInput("instance count must be at least 1, got " + count);
        }
        changes.lock();
        try {
            ModelEntry entry = entry(model);
            return apply(entry.source(), entry, count);
        } finally {
            changes.unlock();
        }
    }

    /** The version requests without one go to, or null when none serves. */
    public Long defaultVersion(String model) {
        VersionSlot slot = defaultSlot(entry(model));
        return slot == null ? null : slot.version();
    }

    /** Why the model's last load or reload failed, or null when it succeeded. */
    public String lastLoadError(String model) {
        return entry(model).lastError();
    }

    /** The folder the model was loaded from. */
    public ModelSource source(String model) {
        return entry(model).source();
    }

    /** Whether a model of that name is known (loaded or failed). */
    public boolean contains(String model) {
        return model != null && models.containsKey(model);
    }

    /** Readiness turns false from now on, so that load balancers stop routing here; requests still run. */
    public void beginShutdown() {
        shuttingDown = true;
    }

    @Override
    public List<ModelVersionInfo> models() {
        List<ModelVersionInfo> all = new ArrayList<>();
        for (ModelEntry entry : models.values()) {
            if (entry.versions().isEmpty()) {
                all.add(info(entry, null));
            }
            entry.versions().values().forEach(slot -> all.add(info(entry, slot)));
        }
        return all;
    }

    @Override
    public ModelVersionInfo describe(String model, Long version) {
        ModelEntry entry = entry(model);
        return info(entry, slot(entry, version));
    }

    @Override
    public boolean ready() {
        return !shuttingDown && !models.isEmpty() && models.values().stream().allMatch(e -> {
            VersionSlot slot = defaultSlot(e);
            return slot != null && slot.currentState() == ModelState.READY;
        });
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        try {
            for (int attempt = 1; ; attempt++) {
                ModelEntry entry = entry(request.model());
                VersionSlot slot = slot(entry, request.version());
                try {
                    return submit(entry, slot, request);
                } catch (ServingException.NotReady e) {
                    // Lost a race with a swap: the version was being drained as this request arrived.
                    // The model's new entry routes it to what replaced it.
                    boolean swapped = slot != null && slot.scheduler() != null && slot.scheduler().closing()
                            && models.get(entry.name()) != entry;
                    if (!swapped || attempt == SWAP_RETRIES) {
                        throw e;
                    }
                }
            }
        } catch (ServingException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            LOG.error("inference on model {} failed", request.model(), e);
            return CompletableFuture.failedFuture(new ServingException.Internal("internal error", e));
        }
    }

    private CompletableFuture<InferenceResponse> submit(ModelEntry entry, VersionSlot slot, InferenceRequest request) {
        if (slot == null || slot.state() != ModelState.READY) {
            String why = slot != null ? slot.error() : entry.error();
            throw new ServingException.NotReady("model '" + entry.name() + "'"
                    + (slot != null ? " version " + slot.version() : "") + " is not ready"
                    + (why != null ? ": " + why : ""));
        }
        // From here on every outcome is counted against this version: refusals by outcome only.
        ModelStats stats = slot.stats();
        try {
            ModelConfig config = slot.config();
            List<Tensor> inputs = RequestValidator.inputsInOrder(config, request);
            RequestValidator.checkRequestedOutputs(config, request.outputs());
            int rows = config.batched() ? (int) inputs.get(0).dim(0) : 1;
            long start = clock.nanoTime();
            // Refusals (bad priority, full queue, no healthy instance) throw here.
            TimedAnswer answer = slot.scheduler().submit(inputs, rows, ShapeKey.of(inputs, config.batched()),
                    request.priority(), request.timeoutMicros(), new TimedAnswer());
            stats.requestStarted();
            return answer
                    .whenComplete((outputs, failure) -> {
                        long ns = clock.nanoTime() - start;
                        if (failure == null) {
                            stats.recordSuccess(ns);
                        } else {
                            stats.recordFailure(Outcome.of(failure), ns);
                        }
                        stats.requestFinished();
                    })
                    .thenApply(outputs -> new InferenceResponse(entry.name(), slot.version(), request.id(),
                            select(outputs, request.outputs()), rows, answer.queueNanos(), answer.computeNanos()));
        } catch (ServingException e) {
            stats.recordRefusal(Outcome.of(e));
            throw e;
        } catch (RuntimeException e) {
            stats.recordRefusal(Outcome.INTERNAL);
            throw e;
        }
    }

    /** The requested outputs in the requested order, or all of them. */
    private static List<Tensor> select(List<Tensor> outputs, List<String> requested) {
        if (requested.isEmpty()) {
            return outputs;
        }
        List<Tensor> chosen = new ArrayList<>(requested.size());
        for (String name : requested) {
            outputs.stream().filter(t -> t.name().equals(name)).findFirst().ifPresent(chosen::add);
        }
        return chosen;
    }

    private ModelEntry entry(String model) {
        ModelEntry entry = model == null ? null : models.get(model);
        if (entry == null) {
            throw new ServingException.NotFound("unknown model '" + model + "'; known models: " + models.keySet());
        }
        return entry;
    }

    /** The requested version, or the default; null when the model has no versions at all. */
    private static VersionSlot slot(ModelEntry entry, Long version) {
        if (version == null) {
            return defaultSlot(entry);
        }
        VersionSlot slot = entry.versions().get(version);
        if (slot == null) {
            throw new ServingException.NotFound("model '" + entry.name() + "' has no version " + version
                    + "; versions: " + entry.versions().keySet());
        }
        return slot;
    }

    /** The version set as default, else the newest ready one, else the newest; null when there are none. */
    private static VersionSlot defaultSlot(ModelEntry entry) {
        if (entry.defaultVersion() != null && entry.versions().containsKey(entry.defaultVersion())) {
            return entry.versions().get(entry.defaultVersion());
        }
        for (VersionSlot slot : entry.versions().descendingMap().values()) {
            if (slot.state() == ModelState.READY) {
                return slot;
            }
        }
        Map.Entry<Long, VersionSlot> newest = entry.versions().lastEntry();
        return newest == null ? null : newest.getValue();
    }

    private static ModelVersionInfo info(ModelEntry entry, VersionSlot slot) {
        List<Long> versions = List.copyOf(entry.versions().keySet());
        if (slot == null) {
            return new ModelVersionInfo(entry.name(), 0, versions, entry.config(), ModelState.FAILED, entry.error(),
                    ModelStats.Snapshot.EMPTY);
        }
        ModelConfig config = slot.config() != null ? slot.config() : entry.config();
        return new ModelVersionInfo(entry.name(), slot.version(), versions, config, slot.currentState(),
                slot.currentError(), slot.stats() == null ? ModelStats.Snapshot.EMPTY : slot.stats().snapshot());
    }

    /**
     * The instances of one model version: health, reloads, and the safe batch size each learned
     * from running out of memory. Empty for a version that did not load.
     *
     * @param version explicit version, or null for the default one
     * @throws ServingException.NotFound for an unknown model or version
     */
    @Override
    public List<InstanceStatus> instances(String model, Long version) {
        VersionSlot slot = slot(entry(model), version);
        return slot == null || slot.scheduler() == null ? List.of() : slot.scheduler().instances();
    }

    @Override
    public int queued(String model, Long version) {
        VersionSlot slot = slot(entry(model), version);
        return slot == null || slot.scheduler() == null ? 0 : slot.scheduler().queued();
    }

    /** Size and modification time of a file, to notice it changed; "missing" when it is not there. */
    static String stamp(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.size() + "@" + a.lastModifiedTime().toMillis() + (a.fileKey() != null ? "#" + a.fileKey() : "");
        } catch (IOException e) {
            return "missing";
        }
    }

    /** Runs what is queued, then releases every model. */
    @Override
    public void close() {
        shuttingDown = true;
        changes.lock();
        try {
            for (ModelEntry entry : models.values()) {
                for (VersionSlot slot : entry.versions().values()) {
                    if (slot.scheduler() != null) {
                        slot.scheduler().close();
                    }
                }
            }
            models.clear();
        } finally {
            changes.unlock();
        }
    }
}
