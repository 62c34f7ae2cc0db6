package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
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
        implements StandInVersion {
    @Override
    public ModelState state() {
        return ModelState.FAILED;
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        return CompletableFuture.failedFuture(new ServingException.NotReady("model '" + model + "'"
                + (version > 0 ? " version " + name : "") + " is not ready" + (error != null ? ": " + error : "")));
    }
}
