package dev.torchlight.server.http.v2;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.Tensor;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.inference.RequestControls;
import java.util.List;
import java.util.Map;

/**
 * A parsed request: tensors for the model, or BYTES items for its handler, and how its outputs
 * are to be sent.
 *
 * @param id the request's id, or null
 * @param tensors the tensor inputs; empty when the request sends items
 * @param items the decoded elements of its BYTES inputs, in order; empty when it sends tensors
 * @param outputs the requested outputs; empty means all
 * @param controls the request's priority and timeout: its parameters, else the headers'
 * @param binaryByDefault the request's {@code binary_data_output}
 * @param binaryOutputs outputs whose own {@code binary_data} says how to send them
 */
public record V2Request(String id, List<Tensor> tensors, List<HandlerItem> items, List<String> outputs,
        RequestControls controls, boolean binaryByDefault, Map<String, Boolean> binaryOutputs) {
    public V2Request {
        tensors = List.copyOf(tensors);
        items = List.copyOf(items);
        outputs = List.copyOf(outputs);
        binaryOutputs = Map.copyOf(binaryOutputs);
    }

    /** Whether the request sends BYTES items for a handler rather than tensors. */
    public boolean sendsItems() {
        return !items.isEmpty();
    }

    /** The request for the model. */
    public InferenceRequest inference() {
        return new InferenceRequest(id, tensors, outputs, controls.priorityOrDefault(),
                controls.timeoutMicrosOrDefault());
    }

    /** Whether output {@code name} goes as raw bytes after the JSON header. */
    public boolean binary(String name) {
        return binaryOutputs.getOrDefault(name, binaryByDefault);
    }

    /** Whether any output that the reply holds goes as raw bytes. */
    public boolean anyBinary(List<Tensor> replyOutputs) {
        for (Tensor output : replyOutputs) {
            if (binary(output.name())) {
                return true;
            }
        }
        return false;
    }
}
