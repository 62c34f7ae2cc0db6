package dev.torchlight.server.metrics.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class AllocatorMetricsTest {

    /** An engine that only reports its allocator: two GPUs, or none. */
    private record AllocatorOnly(List<DeviceAllocation> allocations) implements Engine {
        @Override
        public String name() {
            return "allocator-only";
        }

        @Override
        public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
            throw new UnsupportedOperationException("loads nothing");
        }

        @Override
        public List<DeviceAllocation> deviceAllocations() {
            return allocations;
        }
    }

    @Test
    void eachGpuBecomesOneSeriesPerQuantity() {
        Engine engine = new AllocatorOnly(List.of(new DeviceAllocation(0, 1_000, 4_096, 2_000),
                new DeviceAllocation(1, 0, 2_048, 512)));
        Map<String, MetricSnapshot> byName = new AllocatorMetrics(engine).collect().stream()
                .collect(Collectors.toMap(s -> s.getMetadata().getPrometheusName(), s -> s));

        assertThat(byName).containsOnlyKeys("torchlight_gpu_allocator_allocated_bytes",
                "torchlight_gpu_allocator_reserved_bytes", "torchlight_gpu_allocator_peak_allocated_bytes");
        assertThat(values(byName.get("torchlight_gpu_allocator_allocated_bytes"))).containsExactly("0=1000.0", "1=0.0");
        assertThat(values(byName.get("torchlight_gpu_allocator_reserved_bytes"))).containsExactly("0=4096.0", "1=2048.0");
        assertThat(values(byName.get("torchlight_gpu_allocator_peak_allocated_bytes")))
                .containsExactly("0=2000.0", "1=512.0");
    }

    @Test
    void anEngineWithoutGpusExportsNoSeries() {
        assertThat(new AllocatorMetrics(new AllocatorOnly(List.of())).collect().stream()
                .allMatch(s -> s.getDataPoints().isEmpty())).isTrue();
    }

    private static List<String> values(MetricSnapshot snapshot) {
        return ((GaugeSnapshot) snapshot).getDataPoints().stream()
                .map(p -> p.getLabels().get("gpu") + "=" + p.getValue())
                .toList();
    }
}
