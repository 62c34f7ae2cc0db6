package dev.torchlight.engine;

import dev.torchlight.api.Tensor;
import java.util.List;

/**
 * One loaded instance of a model. Not thread-safe: its instance's thread loads and closes it, and it
 * is called from one thread at a time: that thread, or, for a fast CPU model, the server thread that
 * brought a request ({@code CallerRuns}). An implementation keeps no per-thread state it relies on.
 */
public interface LoadedModel extends AutoCloseable {
    /**
     * The stack of a thread that loads and runs models. Native code runs on it (libtorch's
     * TorchScript interpreter, an AOTInductor package's compiled wrapper), and where models are made
     * and tried, in Python, it runs on an 8 MiB main thread, against the JVM's default of 1 MiB.
     * Reserved address space: pages the thread never touches cost no memory.
     */
    long THREAD_STACK_BYTES = 16L << 20;

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
     * Runs the model once, as {@link #infer}, on a thread that is not its instance's own: a server
     * I/O thread running a fast request itself ({@code CallerRuns}). On the CPU it computes on the
     * calling thread alone: with a pool of helper threads for every such thread, the process would
     * hold more compute threads than cores (docs/ARCHITECTURE.md).
     */
    default List<Tensor> inferOnCaller(List<Tensor> inputs) {
        return infer(inputs);
    }

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
