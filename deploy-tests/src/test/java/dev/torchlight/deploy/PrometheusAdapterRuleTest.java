package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.deploy.KServeModel.AdapterValues;
import dev.torchlight.deploy.KServeModel.DiscoveryRule;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The prometheus-adapter rule shipped with the Helm chart serves what the chart's HPA asks for. */
class PrometheusAdapterRuleTest {
    static final Path VALUES = Manifests.root().resolve("deploy/helm/torchlight/prometheus-adapter-values.yaml");

    static DiscoveryRule queueDepthRule() {
        AdapterValues values = Manifests.strict(Manifests.document(Manifests.read(VALUES)), AdapterValues.class,
                VALUES.getFileName().toString());
        assertThat(values.rules().custom()).hasSize(1);
        return values.rules().custom().getFirst();
    }

    @Test
    void exposesTheQueueDepthAsAPerPodMetric() {
        DiscoveryRule rule = queueDepthRule();
        assertThat(rule.seriesQuery()).startsWith("torchlight_queue_depth{");
        assertThat(rule.resources().overrides()).containsOnlyKeys("namespace", "pod");
        assertThat(rule.resources().overrides().get("namespace").resource()).isEqualTo("namespace");
        assertThat(rule.resources().overrides().get("pod").resource()).isEqualTo("pod");
        assertThat("torchlight_queue_depth").matches(rule.name().matches());
        assertThat(rule.metricsQuery()).contains("<<.Series>>{<<.LabelMatchers>>}").contains("by (<<.GroupBy>>)");
        assertThat(Manifests.read(VALUES.resolveSibling("values.yaml"))).contains("metricName: " + rule.name().as());
    }

    @Test
    void queriesOnlyDocumentedMetrics() {
        assertThat(DocumentedMetrics.used(Manifests.read(VALUES))).containsExactly("torchlight_queue_depth");
        assertThat(DocumentedMetrics.documented()).contains("torchlight_queue_depth");
    }
}
