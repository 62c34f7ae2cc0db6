package dev.torchlight.embedded;

import dev.torchlight.config.HandlerConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.libtorch.LibTorchEngine;
import dev.torchlight.handler.HandlerFactory;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.LoadOptions;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.RepositoryPoller;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.archive.ArchiveStore;
import dev.torchlight.scheduler.NanoClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a {@link Torchlight} opens its repository. Every option has a default: every model, the
 * libtorch engine sharing the cores among instances, no change detection, the built-in handlers,
 * latency histograms kept.
 */
public final class TorchlightBuilder {
    private final Path repository;
    private List<String> models = List.of();
    private String singleModel;
    private int intraOpThreads;
    private Duration pollInterval;
    private Engine engine;
    private HandlerConfig handlers = HandlerConfig.defaults();
    private boolean histograms = true;

    TorchlightBuilder(Path repository) {
        this.repository = Objects.requireNonNull(repository, "repository");
    }

    /** Opens only these models of the repository (default: every model). */
    public TorchlightBuilder models(String... names) {
        return models(List.of(names));
    }

    /** Opens only these models of the repository; empty opens every model. */
    public TorchlightBuilder models(List<String> names) {
        this.models = List.copyOf(names);
        return this;
    }

    /**
     * Treats the repository path as one model's folder (its config.yaml with version folders, or a
     * bare {@code model.pt} beside it, served as version 1), served under {@code name}, as KServe
     * mounts a model at {@code /mnt/models}.
     */
    public TorchlightBuilder singleModel(String name) {
        this.singleModel = Objects.requireNonNull(name, "name");
        return this;
    }

    /**
     * libtorch threads per instance for models whose config sets no {@code intra_op_threads}; 0
     * (the default) shares the cores among all instances. Configures the default engine only.
     */
    public TorchlightBuilder intraOpThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("intra-op threads must be 0 (a share of the cores) or more, got "
                    + threads);
        }
        this.intraOpThreads = threads;
        return this;
    }

    /**
     * Watches the repository: every {@code interval}, new models are loaded, changed ones (new or
     * changed versions, a changed config) reloaded beside the serving copy and swapped in, and models
     * whose folders are gone unloaded. Null (the default) never rescans.
     */
    public TorchlightBuilder pollInterval(Duration interval) {
        if (interval != null && (interval.isZero() || interval.isNegative())) {
            throw new IllegalArgumentException("poll interval must be positive, got " + interval);
        }
        this.pollInterval = interval;
        return this;
    }

    /** The engine that loads and runs the models (default: the libtorch engine). */
    public TorchlightBuilder engine(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
        return this;
    }

    /** Handler settings: whether custom handler jars may load, preprocessing threads (default: neither, automatic). */
    public TorchlightBuilder handlers(HandlerConfig settings) {
        this.handlers = Objects.requireNonNull(settings, "settings");
        return this;
    }

    /**
     * Whether each version's statistics keep latency and batch-size histograms (default true) or
     * only totals; they cost a few adders per request.
     */
    public TorchlightBuilder histograms(boolean keep) {
        this.histograms = keep;
        return this;
    }

    /**
     * Loads and warms up the models (side by side) and starts watching the repository if asked.
     * A model that fails to load is kept as failed, with why ({@link Torchlight#loadOutcomes}); the
     * others serve.
     *
     * @throws dev.torchlight.config.ConfigException when the repository is not a directory or a
     *     named model is not in it
     * @throws IllegalStateException when both an engine and intra-op threads were given
     */
    public Torchlight open() {
        if (engine != null && intraOpThreads != 0) {
            throw new IllegalStateException("intraOpThreads(" + intraOpThreads + ") configures the default libtorch"
                    + " engine, but an engine was given; configure the threads on that engine");
        }
        Engine chosen = engine != null ? engine : new LibTorchEngine(intraOpThreads);
        OpenedResources opened = new OpenedResources();
        ArchiveStore archives = opened.add(ArchiveStore.temporary());
        try {
            ModelRepository repo = singleModel != null ? ModelRepository.singleModel(repository, singleModel)
                    : new ModelRepository(repository, archives);
            var sources = repo.scan(models);
            ModelManager manager = new ModelManager(chosen, NanoClock.SYSTEM,
                    LoadOptions.SERVING.withHistograms(histograms));
            opened.add(manager);
            List<LoadOutcome> outcomes = manager.loadAll(sources);
            // A model's files (labels, handler jars) are where it was loaded from, in the repository or not.
            HandlerStage stage = new HandlerStage(name -> manager.source(name).directory(),
                    HandlerFactory.standard(handlers), handlers.preprocessThreads());
            opened.add(stage);
            stage.prepare(manager.routes().models());
            RepositoryPoller poller = pollInterval == null ? null
                    : RepositoryPoller.start(manager, repo, models, pollInterval);
            return new Torchlight(repo, archives, manager, stage, poller, outcomes);
        } catch (RuntimeException e) {
            throw opened.closeAfter(e);
        }
    }
}
