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
 * @param priority priority level, 1 being the highest; 0 means the model's default
 * @param timeoutMicros how long the request may wait before it runs; 0 means the model's default
 */
public record InferenceRequest(
        String id,
        String model,
        Long version,
        List<Tensor> inputs,
        List<String> outputs,
        Map<String, Object> parameters,
        int priority,
        long timeoutMicros) {

    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        parameters = Map.copyOf(parameters);
        if (priority < 0) {
            throw new IllegalArgumentException("priority must be 0 (default) or a level from 1, got " + priority);
        }
        if (timeoutMicros < 0) {
            throw new IllegalArgumentException("timeout must be 0 (default) or positive, got " + timeoutMicros);
        }
    }

    /** A request with the model's default priority and timeout. */
    public InferenceRequest(
            String id, String model, Long version, List<Tensor> inputs, List<String> outputs,
            Map<String, Object> parameters) {
        this(id, model, version, inputs, outputs, parameters, 0, 0);
    }
}
