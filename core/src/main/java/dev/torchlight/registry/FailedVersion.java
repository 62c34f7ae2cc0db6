package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.scheduler.InstanceStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A version that did not load, kept so that clients and probes can see why; every request to it is
 * refused as not ready, naming the reason.
 *
 * @param name the version's public name
 * @param config the version's config; null when it could not be read
 * @param error why it did not load
 */
record FailedVersion(String model, long version, String name, ModelConfig config, String error)
        implements ServedVersion {
    @Override
    public ModelState state() {
        return ModelState.FAILED;
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        return CompletableFuture.failedFuture(new ServingException.NotReady("model '" + model + "'"
                + (version > 0 ? " version " + name : "") + " is not ready" + (error != null ? ": " + error : "")));
    }

    @Override
    public List<InstanceStatus> instances() {
        return List.of();
    }

    @Override
    public int queued() {
        return 0;
    }

    @Override
    public ModelStats.Snapshot stats() {
        return ModelStats.Snapshot.EMPTY;
    }

    /** Nothing to drain: a failed version can always be held. */
    @Override
    public boolean hold() {
        return true;
    }

    @Override
    public void release() {
        // nothing held
    }
}
