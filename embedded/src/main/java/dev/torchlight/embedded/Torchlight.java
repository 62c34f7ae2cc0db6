package dev.torchlight.embedded;

import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ModelManager;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.RepositoryPoller;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.archive.ArchiveStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * torchlight running inside a Java application: the models of one repository, loaded, warmed up and
 * served by the same core as the server (dynamic batching, instances, versions, reloads), without
 * any listener. Open one with {@link #open} or {@link #builder}, get a model with {@link #model} and
 * close it when the application stops:
 *
 * <pre>{@code
 * try (Torchlight torchlight = Torchlight.open(Path.of("models"))) {
 *     Model risk = torchlight.model("risk");
 *     float[] scores = risk.infer(features).join();
 * }
 * }</pre>
 *
 * <p>Thread-safe: any number of threads may call it and its models at once; requests from all of
 * them are batched together. The server ({@code torchlight serve}) builds its models through this
 * class and adds its listeners on top, through the accessors at the end ({@link #manager()},
 * {@link #routes()}, {@link #repository()}, {@link #handlers()}, {@link #archives()}).
 */
public final class Torchlight implements AutoCloseable {
    private final ModelRepository repository;
    private final ArchiveStore archives;
    private final ModelManager manager;
    private final HandlerStage handlers;
    private final RepositoryPoller poller;
    private final List<LoadOutcome> opened;
    private boolean closed;

    Torchlight(ModelRepository repository, ArchiveStore archives, ModelManager manager, HandlerStage handlers,
            RepositoryPoller poller, List<LoadOutcome> opened) {
        this.repository = repository;
        this.archives = archives;
        this.manager = manager;
        this.handlers = handlers;
        this.poller = poller;
        this.opened = List.copyOf(opened);
    }

    /**
     * Opens every model of {@code repository} ({@code <repository>/<model>/config.yaml} and
     * {@code <repository>/<model>/<version>/model.pt}) with the libtorch engine, without watching it
     * for changes. Returns once every model was loaded and warmed up, or failed (see {@link #loadOutcomes}).
     *
     * @throws dev.torchlight.config.ConfigException when the repository is not a directory
     */
    public static Torchlight open(Path repository) {
        return builder(repository).open();
    }

    /** Options for opening {@code repository}: which models, threads, change detection, the engine. */
    public static TorchlightBuilder builder(Path repository) {
        return new TorchlightBuilder(repository);
    }

    /**
     * A handle on one model, resolved again on every call: a model that is not known now fails its
     * calls with {@link dev.torchlight.api.ServingException.NotFound} until it is {@linkplain Model#load loaded}.
     */
    public Model model(String name) {
        Objects.requireNonNull(name, "name");
        return new Model(this, name, null);
    }

    /** The names of the models known now (loaded or failed), sorted. */
    public List<String> models() {
        return manager.routes().models().stream().map(ServedModel::name).sorted().toList();
    }

    /** True when at least one model is known and every model's default version is ready. */
    public boolean ready() {
        return manager.routes().ready();
    }

    /** What opening did: one outcome per model, with the reasons of those that failed to load. */
    public List<LoadOutcome> loadOutcomes() {
        return opened;
    }

    /**
     * Readiness turns false from now on (for a server's load balancer); requests still run. Part of
     * a graceful stop before {@link #close}.
     */
    public void beginShutdown() {
        manager.beginShutdown();
    }

    /** Stops watching the repository for changes, waiting for a scan in progress; nothing if not watching. */
    public void stopWatching() {
        if (poller != null) {
            poller.close();
        }
    }

    /**
     * Stops: no more change detection, every queued and running request is answered, then the
     * models are released. Requests made after this fail with
     * {@link dev.torchlight.api.ServingException.NotFound}. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stopWatching();
        manager.close();
        // Every request was answered: no pre- or postprocessing is left to run.
        handlers.close();
        archives.close();
    }

    /** The model lifecycle (load, reload, scale, unload), for what manages models besides {@link Model}. */
    public ModelManager manager() {
        return manager;
    }

    /** What serves now: model and version routing, readiness; the statistics of every version. */
    public ModelService routes() {
        return manager.routes();
    }

    /** The repository the models come from. */
    public ModelRepository repository() {
        return repository;
    }

    /** The stage that runs models with a handler (pre- and postprocessing of items such as images). */
    public HandlerStage handlers() {
        return handlers;
    }

    /** Where model archives are unpacked; removed on {@link #close}. */
    public ArchiveStore archives() {
        return archives;
    }
}
