package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.scheduler.InstanceStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What the protocol front ends need from the core: model lookup, readiness and inference. */
public interface ModelService {

    /** Every model version known to the server, including failed ones, by name then version. */
    List<ModelVersionInfo> models();

    /**
     * Describes one model version.
     *
     * @param version explicit version, or null for the model's default (newest) version
     * @throws dev.torchlight.api.ServingException.NotFound for an unknown model or version
     */
    ModelVersionInfo describe(String model, Long version);

    /** True when at least one model is known and every model's default version is ready. */
    boolean ready();

    /**
     * Validates the request against the model and runs it on a worker thread. Never throws:
     * every failure completes the future exceptionally with a
     * {@link dev.torchlight.api.ServingException}.
     */
    CompletableFuture<InferenceResponse> infer(InferenceRequest request);

    /**
     * The instances of one model version (health, learned safe batch size, last error); empty for
     * a version that did not load.
     *
     * @param version explicit version, or null for the newest
     * @throws dev.torchlight.api.ServingException.NotFound for an unknown model or version
     */
    default List<InstanceStatus> instances(String model, Long version) {
        return List.of();
    }

    /**
     * Requests waiting in one model version's queue now; 0 for a version that did not load.
     *
     * @param version explicit version, or null for the newest
     * @throws dev.torchlight.api.ServingException.NotFound for an unknown model or version
     */
    default int queued(String model, Long version) {
        return 0;
    }

    /**
     * Refuses requested outputs the model does not declare, before the request is decoded further
     * or queued; front ends call it so that every protocol answers the same. Nothing is checked for
     * a version that is not ready ({@link #infer} reports that).
     *
     * @throws ServingException.InvalidInput naming the unknown output and the declared ones
     */
    default void checkRequestedOutputs(InferenceRequest request) {
        ModelConfig config = describe(request.model(), request.version()).config();
        if (config == null) {
            return;
        }
        List<String> declared = config.outputs().stream().map(TensorSpec::name).toList();
        for (String name : request.outputs()) {
            if (!declared.contains(name)) {
                throw new ServingException.InvalidInput("model '" + request.model() + "' has no output '" + name
                        + "'; its outputs are " + declared);
            }
        }
    }
}
