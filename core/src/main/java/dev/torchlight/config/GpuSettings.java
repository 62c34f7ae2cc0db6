package dev.torchlight.config;

/**
 * How a model's instances run on a GPU; ignored by CPU instances.
 *
 * @param cudnnBenchmark let cuDNN time its algorithms for each new input shape and keep the fastest
 *     ({@code cudnn_benchmark}); warm-up runs the batch sizes the batcher forms, so the timing happens
 *     before traffic. libtorch keeps this setting per process: one GPU model asking for it turns it on
 *     for all.
 * @param cudaGraphs capture one CUDA graph per warmed-up batch size and replay it, which removes the
 *     per-kernel launch cost ({@code cuda_graphs}); other shapes run eagerly, and a model that cannot be
 *     captured runs eagerly with a log line
 * @param pinnedBuffers stage inputs and outputs in page-locked host memory owned by the instance, so
 *     that copies to and from the device run asynchronously on the instance's stream
 *     ({@code pinned_buffers})
 */
public record GpuSettings(boolean cudnnBenchmark, boolean cudaGraphs, boolean pinnedBuffers) {
    /** cuDNN autotuning and pinned buffers on, CUDA graphs off. */
    public static final GpuSettings DEFAULT = new GpuSettings(true, false, true);
}
