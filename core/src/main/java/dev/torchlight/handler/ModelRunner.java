package dev.torchlight.handler;

import dev.torchlight.api.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs a handler's model through the server's queue, batcher and instances. */
@FunctionalInterface
public interface ModelRunner {
    /**
     * @param inputs the model's inputs in declared order, with a leading batch dimension when the
     *     model has one
     * @return the outputs in declared order; fails with a
     *     {@link dev.torchlight.api.ServingException}
     */
    CompletableFuture<List<Tensor>> run(List<Tensor> inputs);
}
