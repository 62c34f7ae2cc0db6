package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import java.util.concurrent.CompletableFuture;

/** Runs a request as a front end does: resolves and holds its version once, releases it when answered. */
final class FrontEnd {
    private FrontEnd() {}

    /** @return the answer; a model or version that cannot be resolved fails it */
    static CompletableFuture<InferenceResponse> infer(ModelService routes, String model, Long version,
            InferenceRequest request) {
        ServedVersion served;
        try {
            served = routes.acquire(model, version);
        } catch (ServingException e) {
            return CompletableFuture.failedFuture(e);
        }
        return served.infer(request).whenComplete((r, e) -> served.release());
    }
}
