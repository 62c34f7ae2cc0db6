package dev.torchlight.server.inference;

import dev.torchlight.api.ServingException;
import dev.torchlight.handler.HandlerStage;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.RequestHeaders;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What every protocol front end shares, so that REST v2, TorchServe and gRPC are codecs over one
 * path: each request's model and version are resolved once and held until it is answered (a swap
 * meanwhile drains the old version only after it), the request is routed to the model's handler or
 * straight to the model, and metadata, readiness and statistics are selected here, the same for
 * every protocol.
 */
public final class InferenceLayer {
    private final ModelService models;
    /** Null when the server runs no handler stage. */
    private final HandlerStage handlers;

    /** @param handlers runs models that have a handler; null for a server without one */
    public InferenceLayer(ModelService models, HandlerStage handlers) {
        this.models = Objects.requireNonNull(models, "models");
        this.handlers = handlers;
    }

    /**
     * Runs one inference request.
     *
     * @param version explicit version, or null for the model's default
     * @param decoder reads the request once its version is known; what it throws is the answer
     * @return the protocol's reply; fails with a {@link ServingException}
     * @throws ServingException for an unknown model or version, or a request the decoder refuses
     */
    public <R> CompletableFuture<R> infer(String model, Long version, Decoder<R> decoder) {
        return infer(model, version, RequestHeaders.NONE, decoder);
    }

    /**
     * Runs one inference request; one that names no version goes where the model's traffic split
     * sends it (its sticky header read from {@code headers}), else to the default version.
     *
     * @param version explicit version (never split), or null
     * @param headers the request's headers, read while this call resolves the version
     * @param decoder reads the request once its version is known; what it throws is the answer
     * @return the protocol's reply; fails with a {@link ServingException}
     * @throws ServingException for an unknown model or version, or a request the decoder refuses
     */
    public <R> CompletableFuture<R> infer(String model, Long version, RequestHeaders headers, Decoder<R> decoder) {
        ServedVersion target = models.acquire(model, version, headers);
        CompletableFuture<R> reply;
        try {
            reply = switch (decoder.decode(target)) {
                case Work.Tensors<R> t -> target.infer(t.request()).thenApply(t.reply());
                case Work.Items<R> i -> handler(target, i).thenApply(i.reply());
            };
        } catch (RuntimeException | Error e) {
            target.release();
            throw e;
        }
        reply.whenComplete((r, failure) -> target.release());
        return reply;
    }

    private CompletableFuture<dev.torchlight.handler.HandlerAnswer> handler(ServedVersion target, Work.Items<?> items) {
        if (!HandlerStage.handles(target.config())) {
            throw new ServingException.InvalidInput("model '" + target.model() + "' takes tensors, not items for a"
                    + " handler (images, BYTES); its config names no handler");
        }
        if (handlers == null) {
            throw new ServingException.NotReady("model '" + target.model() + "' needs its handler, which this"
                    + " server does not run");
        }
        return handlers.submit(target, items.controls().priorityOrDefault(), items.controls().timeoutMicrosOrDefault(),
                items.items());
    }

    /**
     * A model version for metadata and readiness, not held.
     *
     * @param version explicit version, or null for the default one
     * @throws ServingException.NotFound for an unknown model or version
     */
    public ServedVersion version(String model, Long version) {
        return models.resolve(model, version);
    }

    /**
     * The number of the version a TorchServe-style path names: by its public name ({@code 1.0}),
     * else by its number.
     *
     * @param name the path's version, or null for the default version (then null)
     * @throws ServingException.NotFound for an unknown model or version
     */
    public Long versionNumber(String model, String name) {
        return name == null ? null : models.model(model).versionNamed(name).version();
    }

    /**
     * A model with its versions.
     *
     * @throws ServingException.NotFound for an unknown model
     */
    public ServedModel model(String name) {
        return models.model(name);
    }

    /** Every known model. */
    public List<ServedModel> models() {
        return models.models();
    }

    /** True when at least one model is known and every model's default version is ready. */
    public boolean ready() {
        return models.ready();
    }

    /**
     * The versions a statistics request covers: every version of every model, every version of
     * one model, or one version. Versions that never loaded (a model without version folders) are
     * left out: they have nothing to report.
     *
     * @param model a model name, or null for every model
     * @param version a version, or null for every version of {@code model}
     * @throws ServingException.NotFound for an unknown model or version
     */
    public List<ServedVersion> statistics(String model, Long version) {
        List<ServedVersion> versions;
        if (model == null) {
            versions = models.models().stream().flatMap(m -> m.versions().values().stream()).toList();
        } else if (version != null) {
            versions = List.of(models.resolve(model, version));
        } else {
            versions = List.copyOf(models.model(model).versions().values());
        }
        return versions;
    }
}
