package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.scheduler.BatchingState;
import dev.torchlight.scheduler.InstanceStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One version of a model as the server serves it: its config, its state and, once loaded, its
 * queue, batcher and instances. A front end resolves a request's model and version into one of
 * these once ({@link ModelService#acquire}) and keeps it until the request is answered: a swap that
 * replaces this version meanwhile drains it only after every request holding it let go, so a
 * request is validated, run and answered by the same version.
 */
public interface ServedVersion {
    /** The model's name. */
    String model();

    /** This version; 0 stands for a model with no version at all (its config or folder is broken). */
    long version();

    /**
     * The version's public name: its number, unless its folder names it otherwise
     * ({@code version.txt}, e.g. TorchServe's {@code 1.0}).
     */
    default String name() {
        return Long.toString(version());
    }

    /** The version's config; null when the model's config.yaml could not be read. */
    ModelConfig config();

    /** The state now: a loaded version is not ready while none of its instances is healthy. */
    ModelState state();

    /** Why the version does not serve, or null. */
    String error();

    default boolean ready() {
        return state() == ModelState.READY;
    }

    /**
     * Validates the request against this version's config (each error named once), queues it and
     * completes with its answer: the requested outputs in the requested order, else every output in
     * declared order. Never throws: every failure completes the future with a
     * {@link dev.torchlight.api.ServingException}.
     */
    CompletableFuture<InferenceResponse> infer(InferenceRequest request);

    /** The instances (placement, health, learned safe batch size, last error); empty when not loaded. */
    List<InstanceStatus> instances();

    /** Requests waiting in the queue now; 0 when not loaded. */
    int queued();

    /** Request and execution totals; all zeros for a version that never loaded. */
    ModelStats.Snapshot stats();

    /**
     * What the batch policy has chosen and learned (latency target, waits, batch sizes, engine costs);
     * the fixed policy's empty state for a version that is not loaded or batches by fixed settings.
     */
    default BatchingState batching() {
        return BatchingState.fixed();
    }

    /**
     * Holds this version for one request: it is not drained and released before {@link #release}.
     *
     * @return false when the version is being retired; resolve the model again (the route has moved)
     */
    boolean hold();

    /** Lets go of one {@link #hold}. */
    void release();
}
