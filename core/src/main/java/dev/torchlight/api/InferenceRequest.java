package dev.torchlight.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One client's request, protocol-neutral.
 *
 * @param id client id echoed in the response, or null
 * @param model model name
 * @param version explicit version, or null for the default version
 * @param inputs named input tensors
 * @param outputs names of requested outputs; empty means all
 * @param parameters request parameters as sent (strings, numbers, booleans)
 */
public record InferenceRequest(
        String id,
        String model,
        Long version,
        List<Tensor> inputs,
        List<String> outputs,
        Map<String, Object> parameters) {

    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        parameters = Map.copyOf(parameters);
    }
}
