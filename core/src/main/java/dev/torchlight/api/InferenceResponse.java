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
 * @param rows rows the request asked for (its batch dimension, or 1); 0 when not known
 * @param queueNanos time the request waited in the queue, 0 when not known
 * @param computeNanos time of the engine run that computed it, 0 when not known
 */
public record InferenceResponse(String model, long version, String id, List<Tensor> outputs, int rows,
        long queueNanos, long computeNanos) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }

    /** A response without timing. */
    public InferenceResponse(String model, long version, String id, List<Tensor> outputs) {
        this(model, version, id, outputs, 0, 0, 0);
    }
}
