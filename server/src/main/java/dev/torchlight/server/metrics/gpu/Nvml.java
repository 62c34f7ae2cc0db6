package dev.torchlight.server.metrics.gpu;

/** What the GPU metrics need from NVIDIA's management library; a fake stands in for it in tests. */
public interface Nvml {

    /** GPUs visible to this process. */
    int deviceCount();

    /**
     * Reads one GPU now. A quantity the device does not report is NaN.
     *
     * @param index 0 to {@link #deviceCount()} - 1
     */
    GpuReading read(int index);
}
