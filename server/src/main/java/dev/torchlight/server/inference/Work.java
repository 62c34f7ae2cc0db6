package dev.torchlight.server.inference;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.handler.HandlerAnswer;
import dev.torchlight.handler.ItemSource;
import java.util.Objects;
import java.util.function.Function;

/**
 * What a decoded request asks the server to do, and how its protocol words the answer: run tensors
 * through the model as they are, or hand items (images, say) to the model's handler.
 *
 * @param <R> the protocol's reply
 */
public sealed interface Work<R> {
    /**
     * Tensors for the model itself.
     *
     * @param reply turns the answer into the protocol's reply; cheap (the front end renders later)
     */
    record Tensors<R>(InferenceRequest request, Function<InferenceResponse, R> reply) implements Work<R> {
        public Tensors {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(reply, "reply");
        }
    }

    /**
     * Items for the model's handler, which preprocesses them into tensors and postprocesses the answer.
     *
     * @param items extracts the items; runs on the preprocessing pool, not on the front end's thread
     * @param controls the request's priority and timeout
     * @param reply turns the handler's answer into the protocol's reply
     */
    record Items<R>(ItemSource items, RequestControls controls, Function<HandlerAnswer, R> reply)
            implements Work<R> {
        public Items {
            Objects.requireNonNull(items, "items");
            Objects.requireNonNull(controls, "controls");
            Objects.requireNonNull(reply, "reply");
        }
    }
}
