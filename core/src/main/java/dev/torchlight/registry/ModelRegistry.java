package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstancePlacement;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.scheduler.ModelScheduler;
import dev.torchlight.scheduler.NanoClock;
import dev.torchlight.scheduler.ShapeKey;
import dev.torchlight.scheduler.TimedAnswer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the server knows, each with its versions and their schedulers (queue, batcher and
 * instances). A model whose config or files are broken is kept as failed so clients and probes can
 * see why; the others serve. A loaded version whose instances are all being reloaded reports
 * {@link ModelState#LOADING} until one is back.
 */
public final class ModelRegistry implements ModelService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /** A loaded or failed version. {@code scheduler} and {@code stats} are null unless it loaded. */
    private record VersionSlot(long version, ModelState state, String error, ModelScheduler scheduler, ModelStats stats) {

        /** The state now: a loaded version is not ready while none of its instances is healthy. */
        ModelState currentState() {
            if (state != ModelState.READY || scheduler.ready()) {
                return state;
            }
            return scheduler.closing() ? ModelState.UNLOADED : ModelState.LOADING;
        }

        String currentError() {
            return state == ModelState.READY && !scheduler.ready() ? scheduler.notReadyReason() : error;
        }
    }

    /** A model: its config (null if unreadable) and its versions. */
    private record ModelEntry(String name, ModelConfig config, String error, NavigableMap<Long, VersionSlot> versions) {}

    private final Engine engine;
    private final NanoClock clock;
    private final boolean histograms;
    private final Map<String, ModelEntry> models = new ConcurrentSkipListMap<>();

    public ModelRegistry(Engine engine) {
        this(engine, NanoClock.SYSTEM);
    }

    /** @param clock times queues, deadlines and statistics */
    public ModelRegistry(Engine engine, NanoClock clock) {
        this(engine, clock, true);
    }

    /**
     * @param clock times queues, deadlines and statistics
     * @param histograms whether each version's {@link ModelStats} keeps latency and batch-size
     *     histograms (metrics on) or only totals
     */
    public ModelRegistry(Engine engine, NanoClock clock, boolean histograms) {
        this.engine = engine;
        this.clock = clock;
        this.histograms = histograms;
    }

    /**
     * Loads every version of one model and makes it visible. Failures are logged and recorded
     * against that model only.
     */
    public void load(ModelSource source) {
        ModelConfig config;
        try {
            config = ModelConfigParser.parse(source.configFile(), source.name());
        } catch (ConfigException e) {
            fail(source, e.getMessage());
            return;
        }
        if (source.versions().isEmpty()) {
            fail(source, "no version folders in " + source.directory()
                    + "; expected " + source.name() + "/<version>/" + ModelSource.MODEL_FILE);
            return;
        }
        NavigableMap<Long, VersionSlot> versions = new TreeMap<>();
        source.versions().forEach((version, file) -> versions.put(version, loadVersion(config, version, file)));
        models.put(source.name(), new ModelEntry(source.name(), config, null, versions));
    }

    private VersionSlot loadVersion(ModelConfig config, long version, Path file) {
        String label = config.name() + "/" + version;
        if (!Files.isRegularFile(file)) {
            return failed(label, version, "model file " + file + " not found");
        }
        long start = System.nanoTime();
        try {
            InstancePlacement.check(config, engine.gpuCount());
            ModelStats stats = new ModelStats(config.maxBatchSize(), histograms);
            Supplier<LoadedModel> loader = () -> engine.load(config, file);
            ModelScheduler scheduler = ModelScheduler.start(config, version, loader, stats, clock);
            LOG.info("loaded model {} version {} ({}, {} instance(s), {} ms)", config.name(), version, engine.name(),
                    config.instanceCount(), (System.nanoTime() - start) / 1_000_000);
            return new VersionSlot(version, ModelState.READY, null, scheduler, stats);
        } catch (RuntimeException e) {
            return failed(label, version, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private static VersionSlot failed(String label, long version, String error) {
        LOG.error("model {} failed to load: {}", label, error);
        return new VersionSlot(version, ModelState.FAILED, error, null, null);
    }

    private void fail(ModelSource source, String error) {
        LOG.error("model {} failed to load: {}", source.name(), error);
        NavigableMap<Long, VersionSlot> versions = new TreeMap<>();
        source.versions().keySet().forEach(v -> versions.put(v, new VersionSlot(v, ModelState.FAILED, error, null, null)));
        models.put(source.name(), new ModelEntry(source.name(), null, error, versions));
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
        return !models.isEmpty() && models.values().stream().allMatch(e -> {
            Map.Entry<Long, VersionSlot> newest = e.versions().lastEntry();
            return newest != null && newest.getValue().currentState() == ModelState.READY;
        });
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        ModelStats stats = null;
        try {
            ModelEntry entry = entry(request.model());
            VersionSlot slot = slot(entry, request.version());
            if (slot == null || slot.state() != ModelState.READY) {
                String why = slot != null ? slot.error() : entry.error();
                throw new ServingException.NotReady("model '" + entry.name() + "'"
                        + (slot != null ? " version " + slot.version() : "") + " is not ready"
                        + (why != null ? ": " + why : ""));
            }
            // From here on every outcome is counted against this version: refusals by outcome only.
            stats = slot.stats();
            ModelConfig config = entry.config();
            List<Tensor> inputs = RequestValidator.inputsInOrder(config, request);
            RequestValidator.checkRequestedOutputs(config, request.outputs());
            int rows = config.batched() ? (int) inputs.get(0).dim(0) : 1;
            ModelStats counted = stats;
            long start = clock.nanoTime();
            // Refusals (bad priority, full queue, no healthy instance) throw here.
            TimedAnswer answer = slot.scheduler().submit(inputs, rows, ShapeKey.of(inputs, config.batched()),
                    request.priority(), request.timeoutMicros(), new TimedAnswer());
            counted.requestStarted();
            return answer
                    .whenComplete((outputs, failure) -> {
                        long ns = clock.nanoTime() - start;
                        if (failure == null) {
                            counted.recordSuccess(ns);
                        } else {
                            counted.recordFailure(Outcome.of(failure), ns);
                        }
                        counted.requestFinished();
                    })
                    .thenApply(outputs -> new InferenceResponse(entry.name(), slot.version(), request.id(),
                            select(outputs, request.outputs()), rows, answer.queueNanos(), answer.computeNanos()));
        } catch (ServingException e) {
            if (stats != null) {
                stats.recordRefusal(Outcome.of(e));
            }
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            LOG.error("inference on model {} failed", request.model(), e);
            if (stats != null) {
                stats.recordRefusal(Outcome.INTERNAL);
            }
            return CompletableFuture.failedFuture(new ServingException.Internal("internal error", e));
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

    /** The requested version, or the newest; null when the model has no versions at all. */
    private static VersionSlot slot(ModelEntry entry, Long version) {
        if (version == null) {
            Map.Entry<Long, VersionSlot> newest = entry.versions().lastEntry();
            return newest == null ? null : newest.getValue();
        }
        VersionSlot slot = entry.versions().get(version);
        if (slot == null) {
            throw new ServingException.NotFound("model '" + entry.name() + "' has no version " + version
                    + "; versions: " + entry.versions().keySet());
        }
        return slot;
    }

    private static ModelVersionInfo info(ModelEntry entry, VersionSlot slot) {
        List<Long> versions = List.copyOf(entry.versions().keySet());
        if (slot == null) {
            return new ModelVersionInfo(entry.name(), 0, versions, entry.config(), ModelState.FAILED, entry.error(),
                    ModelStats.Snapshot.EMPTY);
        }
        return new ModelVersionInfo(entry.name(), slot.version(), versions, entry.config(), slot.currentState(),
                slot.currentError(), slot.stats() == null ? ModelStats.Snapshot.EMPTY : slot.stats().snapshot());
    }

    /**
     * The instances of one model version: health, reloads, and the safe batch size each learned
     * from running out of memory. Empty for a version that did not load.
     *
     * @param version explicit version, or null for the newest
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

    /** Runs what is queued, then releases every model. */
    @Override
    public void close() {
        for (ModelEntry entry : models.values()) {
            for (VersionSlot slot : entry.versions().values()) {
                if (slot.scheduler() != null) {
                    slot.scheduler().close();
                }
            }
        }
        models.clear();
    }
}
