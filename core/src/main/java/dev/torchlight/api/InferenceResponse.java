package dev.torchlight.api;

import java.util.List;

/**
 * The answer to an {@link InferenceRequest}.
 *
 * @param model model name
 * @param version the version that ran
 * @param id the request's id, or null
 * @param outputs output tensors: the requested ones in the requested order, else all in the
 *     model's declared order
 */
public record InferenceResponse(String model, long version, String id, List<Tensor> outputs) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }
}
