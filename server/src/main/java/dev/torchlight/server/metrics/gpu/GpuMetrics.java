package dev.torchlight.server.metrics.gpu;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-GPU gauges read through {@link Nvml} at scrape time: utilization, memory used and total,
 * power and temperature, labelled {@code gpu} (the NVML index) and {@code name}.
 */
public final class GpuMetrics implements MultiCollector {
    private static final Logger LOG = LoggerFactory.getLogger(GpuMetrics.class);

    private final Nvml nvml;

    public GpuMetrics(Nvml nvml) {
        this.nvml = nvml;
    }

    /**
     * GPU metrics when NVIDIA's management library loads; otherwise none, with one info line (a
     * machine without NVIDIA GPUs is normal, not an error).
     */
    public static Optional<GpuMetrics> detect(String library) {
        Optional<Nvml> nvml = NvmlLibrary.load(library);
        if (nvml.isEmpty()) {
            LOG.info("no GPU metrics: NVIDIA's management library ({}) is not available", library);
            return Optional.empty();
        }
        int count = nvml.get().deviceCount();
        LOG.info("GPU metrics for {} device(s) through NVML", count);
        return Optional.of(new GpuMetrics(nvml.get()));
    }

    @Override
    public MetricSnapshots collect() {
        var utilization = GaugeSnapshot.builder().name("torchlight_gpu_utilization_ratio").unit(Unit.RATIO)
                .help("Fraction of the last sample period in which the GPU ran a kernel (0 to 1).");
        var used = GaugeSnapshot.builder().name("torchlight_gpu_memory_used_bytes").unit(Unit.BYTES)
                .help("GPU memory in use.");
        var total = GaugeSnapshot.builder().name("torchlight_gpu_memory_total_bytes").unit(Unit.BYTES)
                .help("GPU memory installed.");
        var power = GaugeSnapshot.builder().name("torchlight_gpu_power_watts")
                .help("Power drawn by the GPU, in watts.");
        var temperature = GaugeSnapshot.builder().name("torchlight_gpu_temperature_celsius").unit(Unit.CELSIUS)
                .help("GPU core temperature.");
        int count = nvml.deviceCount();
        for (int i = 0; i < count; i++) {
            GpuReading r = nvml.read(i);
            Labels labels = Labels.of("gpu", Integer.toString(r.index()), "name", r.name());
            add(utilization, labels, r.utilization());
            add(used, labels, r.memoryUsedBytes());
            add(total, labels, r.memoryTotalBytes());
            add(power, labels, r.powerWatts());
            add(temperature, labels, r.temperatureCelsius());
        }
        return MetricSnapshots.of(utilization.build(), used.build(), total.build(), power.build(), temperature.build());
    }

    /** A quantity the device does not report is left out rather than shown as NaN. */
    private static void add(GaugeSnapshot.Builder gauge, Labels labels, double value) {
        if (!Double.isNaN(value)) {
            gauge.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
        }
    }
}
