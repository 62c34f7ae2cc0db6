package dev.torchlight.engine.pytorch;

/**
 * Settings of the PyTorch engine.
 *
 * @param intraOpThreads threads libtorch uses inside one operator; 0 keeps libtorch's default (the
 *     core count). This is one process-wide setting in libtorch: the engine that loads a model last
 *     decides it for every model in the process.
 * @param graphOptimizer whether TorchScript's profiling graph executor optimizes the model; it makes
 *     the first calls of each new input shape slower in exchange for fused, possibly faster steady
 *     calls. It replaces DJL's {@code ai.djl.pytorch.graph_optimizer} property, which this engine
 *     does not read.
 */
public record PyTorchOptions(int intraOpThreads, boolean graphOptimizer) {

    public PyTorchOptions {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be 0 (engine default) or positive, got " + intraOpThreads);
        }
    }

    /** libtorch's own defaults: all cores, graph optimizer on. */
    public static PyTorchOptions defaults() {
        return new PyTorchOptions(0, true);
    }
}
