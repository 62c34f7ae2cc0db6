package dev.torchlight.engine.pytorch;

/**
 * Settings of the PyTorch engine.
 *
 * @param intraOpThreads threads libtorch uses inside one operator, for models whose config does not
 *     set {@code intra_op_threads}; 0 = an even share of the cores among every instance of the engine. See
 *     {@link PyTorchEngine} for how libtorch shares this setting between threads.
 * @param graphOptimizer whether TorchScript's profiling graph executor optimizes the model; it makes
 *     the first calls of each new input shape slower in exchange for fused, possibly faster steady
 *     calls. It replaces DJL's {@code ai.djl.pytorch.graph_optimizer} property, which this engine
 *     does not read.
 */
public record PyTorchOptions(int intraOpThreads, boolean graphOptimizer) {

    public PyTorchOptions {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be 0 (a share of the cores) or positive, got " + intraOpThreads);
        }
    }

    /** Threads shared out by instances, graph optimizer on (libtorch's default). */
    public static PyTorchOptions defaults() {
        return new PyTorchOptions(0, true);
    }
}
