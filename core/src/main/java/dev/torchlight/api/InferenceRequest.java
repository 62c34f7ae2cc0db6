package dev.torchlight.api;

import java.util.List;

/**
 * One client's request, protocol-neutral: what to run. Which model version runs it is resolved
 * before, once (see {@code ModelService#acquire}).
 *
 * @param id client id echoed in the response, or null
 * @param inputs named input tensors
 * @param outputs names of requested outputs; empty means all
 * @param priority priority level, 1 being the highest; 0 means the model's default
 * @param timeoutMicros how long the request may wait before it runs; 0 means the model's default
 */
public record InferenceRequest(String id, List<Tensor> inputs, List<String> outputs, int priority,
        long timeoutMicros) {

    public InferenceRequest {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        if (priority < 0) {
            throw new IllegalArgumentException("priority must be 0 (default) or a level from 1, got " + priority);
        }
        if (timeoutMicros < 0) {
            throw new IllegalArgumentException("timeout must be 0 (default) or positive, got " + timeoutMicros);
        }
    }
}
