package dev.torchlight.handler;

import dev.torchlight.api.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Turns what a client sent into a model's input tensors and the model's outputs into the
 * client's answer. One instance serves every request of its model, from several threads at once,
 * so an implementation keeps no per-request state in fields.
 *
 * <p>Built-in handlers are selected by {@code handler:} in a model's {@code config.yaml}; a team's
 * own handler implements this interface in a jar placed in the model's directory (see
 * docs/HANDLERS.md). A custom handler class has a public constructor taking a
 * {@link HandlerContext}, or a public no-argument constructor.
 *
 * <p>{@link #preprocess} and {@link #postprocess} run on the server's preprocessing threads, never
 * on a network thread nor on the thread that runs the model. To refuse bad input, throw
 * {@link dev.torchlight.api.ServingException.InvalidInput} with a message for the client; any other
 * exception is logged and answered as an internal error.
 */
public interface Handler extends AutoCloseable {

    /**
     * Turns one item a client sent (an image, a form field, a JSON value) into the model's inputs
     * for that item, in the model's declared input order and without a batch dimension. The items
     * of one request, and requests of several clients, are stacked into batches by the server.
     */
    List<Tensor> preprocess(HandlerItem item);

    /**
     * Runs the model on a batch: the stacked inputs of every item of one request. The default runs
     * it once; a handler may run it several times or change the inputs in between.
     *
     * @param inputs the model's inputs with a leading batch dimension when the model has one
     * @param model runs the model through the server's queue and batcher
     * @return the model's outputs for the whole batch
     */
    default CompletableFuture<List<Tensor>> inference(List<Tensor> inputs, ModelRunner model) {
        return model.run(inputs);
    }

    /**
     * Turns the model's outputs for one item (without the batch dimension) into the answer for
     * it: a String, Number, Boolean, or a {@code List} or {@code Map<String, ?>} of those, which the
     * server writes as JSON.
     */
    Object postprocess(List<Tensor> outputs);

    /** Releases what the handler holds; called when its model goes away. */
    @Override
    default void close() {}
}
