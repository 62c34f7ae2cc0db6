package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import java.util.concurrent.CompletableFuture;

/**
 * A version of a newly registered model while its first load runs: the model is known at once
 * (listed, described, not ready), as TorchServe shows a model whose workers are still starting, and
 * requests to it are refused as not ready until the load publishes what it loaded.
 *
 * @param config the model's config; null when it was not read yet
 */
record LoadingVersion(String model, long version, String name, ModelConfig config) implements StandInVersion {
    @Override
    public ModelState state() {
        return ModelState.LOADING;
    }

    @Override
    public String error() {
        return null;
    }

    @Override
    public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
        return CompletableFuture.failedFuture(new ServingException.NotReady("model '" + model + "' version " + name
                + " is loading; retry once it is ready"));
    }
}
