package dev.torchlight.embedded;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.LoadOutcome;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.repository.ModelSource;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A handle on one model of a {@link Torchlight}, or on one of its versions ({@link #version(long)}).
 * Cheap and immutable: it names the model and resolves it on every call, so it follows reloads and
 * swaps and may be kept for the application's lifetime.
 *
 * <p>Each request is resolved to one version once and holds it until answered: a reload or swap in
 * between lets it finish on the version it started on. Requests from all threads are queued
 * together and batched as the model's {@code dynamic_batching} says. The {@code infer} methods never
 * throw: every failure completes the future with a {@link ServingException} (unknown model or
 * version, not ready, invalid input, overloaded, timed out, internal).
 */
public final class Model {
    private final Torchlight runtime;
    private final String name;
    private final Long version;

    Model(Torchlight runtime, String name, Long version) {
        this.runtime = runtime;
        this.name = name;
        this.version = version;
    }

    /** The model's name. */
    public String name() {
        return name;
    }

    /** The version this handle is pinned to; empty for the model's default version. */
    public OptionalLong pinnedVersion() {
        return version == null ? OptionalLong.empty() : OptionalLong.of(version);
    }

    /** A handle on version {@code number} of this model. */
    public Model version(long number) {
        return new Model(runtime, name, number);
    }

    /**
     * Runs one request: the model's inputs by name, optionally which outputs, a priority and a
     * queueing timeout.
     *
     * @return the requested outputs in the requested order, else every output in declared order
     */
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        return held(target -> target.infer(request));
    }

    /** Runs the model on these inputs, with the model's default priority and timeout; every output. */
    public CompletableFuture<InferenceResponse> infer(Tensor... inputs) {
        return infer(new InferenceRequest(null, List.of(inputs), List.of(), 0, 0));
    }

    /**
     * Runs a model with one FP32 input and one FP32 output on {@code values}: for a batched model,
     * one or more rows of the input's declared shape one after another (the row count is
     * {@code values.length} divided by a row's size); for an unbatched model, exactly the declared
     * shape. The input's declared shape must be fixed (no -1); use {@link #infer(InferenceRequest)}
     * otherwise.
     *
     * @return the output's elements, rows one after another
     */
    public CompletableFuture<float[]> infer(float[] values) {
        return held(target -> target.infer(FloatRows.request(target, values)).thenApply(FloatRows::values));
    }

    /**
     * Runs items (images, other payloads) through the model's handler: preprocessing, the model
     * (batched with other requests), postprocessing, on the handler's own threads.
     *
     * @return one answer per item, as the handler words it
     */
    public CompletableFuture<HandlerAnswer> handle(List<HandlerItem> items) {
        List<HandlerItem> copy = List.copyOf(items);
        return held(target -> runtime.handlers().submit(target, 0, 0, () -> copy));
    }

    /**
     * Loads the model from the repository, or reloads it when it is known ({@link #reload}). Acts on
     * the whole model folder (its version policy picks the versions), also on a version's handle.
     * With change detection on, the repository decides: a model that is not among the builder's
     * {@code models(...)} is unloaded again at the next scan.
     *
     * @return what was loaded, and why versions failed
     * @throws dev.torchlight.config.ConfigException when the repository has no model of that name
     */
    public LoadOutcome load() {
        return runtime.manager().load(source());
    }

    /**
     * Brings a known model in line with its folder: new or changed versions and a changed config are
     * loaded and warmed up beside the serving copy, then swapped in; versions gone from the folder
     * are drained and released; unchanged versions keep serving untouched.
     *
     * @throws ServingException.NotFound when the model is not known (use {@link #load})
     */
    public LoadOutcome reload() {
        if (!runtime.manager().contains(name)) {
            throw new ServingException.NotFound("model '" + name + "' is not loaded; load() it first (known: "
                    + runtime.models() + ")");
        }
        return load();
    }

    /**
     * Unloads the model, or on a version's handle that version (the last version takes the model
     * with it): it takes no new requests at once; what it holds is answered, then released.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public void unload() {
        if (version == null) {
            runtime.manager().unload(name);
        } else {
            runtime.manager().unload(name, version);
        }
    }

    /** Whether the version this handle resolves to now serves; false for an unknown model or version. */
    public boolean ready() {
        try {
            return served().ready();
        } catch (ServingException.NotFound e) {
            return false;
        }
    }

    /**
     * Request, queue, compute and batch-size totals (and histograms, unless turned off) of the version
     * this handle resolves to now: the same snapshots the server's metrics and statistics read.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public ModelStats.Snapshot stats() {
        return served().stats();
    }

    /**
     * The version this handle resolves to now: its number, config, state, error, instances and queue.
     *
     * @throws ServingException.NotFound for an unknown model or version
     */
    public ServedVersion served() {
        return runtime.routes().resolve(name, version);
    }

    @Override
    public String toString() {
        return "Model[" + name + (version == null ? "" : ", version " + version) + "]";
    }

    /** The model's folder as the repository has it now. */
    private ModelSource source() {
        List<ModelSource> found = runtime.repository().scan(List.of(name));
        return found.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(
                () -> new ServingException.NotFound("the repository " + runtime.repository().root()
                        + " serves no model '" + name + "'; it has " + found.stream().map(ModelSource::name).toList()));
    }

    /**
     * Runs {@code work} on the version this handle resolves to, held until the work's future
     * completes, and released before the returned future completes.
     */
    private <T> CompletableFuture<T> held(Function<ServedVersion, CompletableFuture<T>> work) {
        ServedVersion target;
        try {
            target = runtime.routes().acquire(name, version);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<T> result;
        try {
            result = work.apply(target);
        } catch (RuntimeException e) {
            target.release();
            return CompletableFuture.failedFuture(e);
        }
        return result.whenComplete((value, failure) -> target.release());
    }
}
