package dev.torchlight.server.metrics.gpu;

/**
 * One GPU at one moment; NaN where the device does not report a quantity.
 *
 * @param index the device's NVML index
 * @param name the product name, e.g. {@code NVIDIA A100-SXM4-40GB}
 * @param utilization fraction of the last sample period in which a kernel ran, 0 to 1
 * @param memoryUsedBytes device memory in use
 * @param memoryTotalBytes device memory installed
 * @param powerWatts power drawn
 * @param temperatureCelsius core temperature
 */
public record GpuReading(int index, String name, double utilization, double memoryUsedBytes,
        double memoryTotalBytes, double powerWatts, double temperatureCelsius) {}
