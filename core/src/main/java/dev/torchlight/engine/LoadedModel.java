package dev.torchlight.engine;

import dev.torchlight.api.Tensor;
import java.util.List;

/**
 * One loaded instance of a model. Not thread-safe: a worker owns it and calls it from one thread.
 */
public interface LoadedModel extends AutoCloseable {

    /**
     * Runs the model once.
     *
     * @param inputs one tensor per declared input, in declared order, already validated
     * @return one tensor per declared output, in declared order and named as declared; their
     *     buffers stay valid after this call returns
     * @throws EngineException when the engine fails; the message is shown to the client
     */
    List<Tensor> infer(List<Tensor> inputs);

    /**
     * The CUDA stream this instance queues its work on, e.g. {@code cuda:0/stream 3}; empty on the CPU.
     */
    default String stream() {
        return "";
    }

    /** Releases native memory. */
    @Override
    void close();
}
