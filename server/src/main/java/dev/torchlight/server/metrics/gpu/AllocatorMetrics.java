package dev.torchlight.server.metrics.gpu;

import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.Engine;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * The engine's caching allocator on each GPU, read at scrape time: the memory tensors use, what the
 * allocator keeps reserved from the driver (in use plus cached for reuse), and the peak in use.
 * Next to NVML's {@code torchlight_gpu_memory_used_bytes} they tell the model's memory from the
 * cache and from other processes. Nothing is exported where the engine has no GPU.
 */
public final class AllocatorMetrics implements MultiCollector {
    private final Engine engine;

    public AllocatorMetrics(Engine engine) {
        this.engine = engine;
    }

    @Override
    public MetricSnapshots collect() {
        var allocated = GaugeSnapshot.builder().name("torchlight_gpu_allocator_allocated_bytes").unit(Unit.BYTES)
                .help("GPU memory the engine's tensors use now.");
        var reserved = GaugeSnapshot.builder().name("torchlight_gpu_allocator_reserved_bytes").unit(Unit.BYTES)
                .help("GPU memory the engine's caching allocator holds from the driver (in use plus cached).");
        var peak = GaugeSnapshot.builder().name("torchlight_gpu_allocator_peak_allocated_bytes").unit(Unit.BYTES)
                .help("Most GPU memory the engine's tensors ever used at once.");
        for (DeviceAllocation a : engine.deviceAllocations()) {
            Labels labels = Labels.of("gpu", Integer.toString(a.device()));
            allocated.dataPoint(point(labels, a.allocatedBytes()));
            reserved.dataPoint(point(labels, a.reservedBytes()));
            peak.dataPoint(point(labels, a.peakAllocatedBytes()));
        }
        return MetricSnapshots.of(allocated.build(), reserved.build(), peak.build());
    }

    private static GaugeSnapshot.GaugeDataPointSnapshot point(Labels labels, long value) {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }
}
