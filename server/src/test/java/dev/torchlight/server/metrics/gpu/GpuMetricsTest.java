package dev.torchlight.server.metrics.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class GpuMetricsTest {

    /** Two GPUs; the second reports no power (as some boards do). */
    static final class FakeNvml implements Nvml {
        @Override
        public int deviceCount() {
            return 2;
        }

        @Override
        public GpuReading read(int index) {
            return index == 0
                    ? new GpuReading(0, "NVIDIA A100", 0.93, 30e9, 40e9, 250.5, 71)
                    : new GpuReading(1, "NVIDIA T4", 0.1, 1e9, 16e9, Double.NaN, 45);
        }
    }

    @Test
    void eachDeviceBecomesOneSeriesPerQuantityLabelledByIndexAndName() {
        MetricSnapshots snapshots = new GpuMetrics(new FakeNvml()).collect();
        Map<String, MetricSnapshot> byName = snapshots.stream()
                .collect(Collectors.toMap(s -> s.getMetadata().getPrometheusName(), s -> s));

        assertThat(byName).containsOnlyKeys("torchlight_gpu_utilization_ratio", "torchlight_gpu_memory_used_bytes",
                "torchlight_gpu_memory_total_bytes", "torchlight_gpu_power_watts", "torchlight_gpu_temperature_celsius");
        assertThat(values(byName.get("torchlight_gpu_utilization_ratio")))
                .containsExactlyInAnyOrder("0/NVIDIA A100=0.93", "1/NVIDIA T4=0.1");
        assertThat(values(byName.get("torchlight_gpu_memory_used_bytes")))
                .containsExactlyInAnyOrder("0/NVIDIA A100=3.0E10", "1/NVIDIA T4=1.0E9");
        assertThat(values(byName.get("torchlight_gpu_memory_total_bytes")))
                .containsExactlyInAnyOrder("0/NVIDIA A100=4.0E10", "1/NVIDIA T4=1.6E10");
        // A quantity the device does not report is left out, not exported as NaN.
        assertThat(values(byName.get("torchlight_gpu_power_watts"))).containsExactly("0/NVIDIA A100=250.5");
        assertThat(values(byName.get("torchlight_gpu_temperature_celsius")))
                .containsExactlyInAnyOrder("0/NVIDIA A100=71.0", "1/NVIDIA T4=45.0");
    }

    @Test
    void aMissingLibraryMeansNoGpuMetricsAndNoError() {
        assertThat(NvmlLibrary.load("torchlight-no-such-library")).isEmpty();
        assertThat(GpuMetrics.detect("torchlight-no-such-library")).isEmpty();
    }

    private static List<String> values(MetricSnapshot snapshot) {
        return ((GaugeSnapshot) snapshot).getDataPoints().stream()
                .map(p -> p.getLabels().get("gpu") + "/" + p.getLabels().get("name") + "=" + p.getValue())
                .toList();
    }
}
