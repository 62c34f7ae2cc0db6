package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.torchlight.config.ServerConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.ObjectNode;

/**
 * deploy/helm/torchlight: `helm lint --strict`, and `helm template` with the default values and every
 * value set in ci/, each rendered object read back strictly into fabric8's Kubernetes model and the
 * server container's arguments resolved as `torchlight serve` resolves them. Helm runs in-process
 * (helm-java's bundled Helm), offline, without a cluster.
 */
class HelmChartTest {
    private static final Path CHART = Manifests.root().resolve("deploy/helm/torchlight");
    private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

    /** The objects of one rendering, read strictly. */
    record Rendered(List<HasMetadata> objects) {
        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T one(Class<T> type) {
            List<T> found = all(type);
            assertThat(found).as("exactly one %s", type.getSimpleName()).hasSize(1);
            return found.getFirst();
        }

        Container server() {
            List<Container> containers = one(Deployment.class).getSpec().getTemplate().getSpec().getContainers();
            assertThat(containers).extracting(Container::getName).containsExactly("torchlight");
            return containers.getFirst();
        }

        ServerConfig settings() {
            return ServerContainer.settings(server(), Map.of());
        }

        PodSpec pod() {
            return one(Deployment.class).getSpec().getTemplate().getSpec();
        }
    }

    static Rendered render(String valueSet, UnaryOperator<TemplateCommand> more) {
        TemplateCommand template = new Helm(CHART).template().withName("torchlight").withNamespace("models");
        if (!valueSet.equals("default")) {
            template = template.withValuesFile(CHART.resolve("ci").resolve(valueSet + "-values.yaml"));
        }
        String yaml = more.apply(template).call();
        List<HasMetadata> objects = new ArrayList<>();
        for (ObjectNode doc : Manifests.documents(yaml)) {
            objects.add(Manifests.kubernetesObject(doc, valueSet + " values:"));
        }
        return new Rendered(objects);
    }

    static Rendered render(String valueSet) {
        return render(valueSet, t -> t);
    }

    static Stream<String> valueSets() throws IOException {
        List<String> sets = new ArrayList<>(List.of("default"));
        try (Stream<Path> files = Files.list(CHART.resolve("ci"))) {
            files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith("-values.yaml")).sorted()
                    .forEach(n -> sets.add(n.substring(0, n.length() - "-values.yaml".length())));
        }
        assertThat(sets).contains("gpu", "monitoring", "model-image");
        return sets.stream();
    }

    @Test
    void lintsWithoutWarnings() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @ParameterizedTest(name = "{0} values")
    @MethodSource("valueSets")
    void rendersObjectsThatHoldTogether(String valueSet) {
        Rendered rendered = render(valueSet);
        assertThat(rendered.objects()).allSatisfy(o -> {
            assertThat(o.getMetadata().getName()).as("%s name", o.getKind()).matches(DNS_LABEL).hasSizeLessThanOrEqualTo(63);
            assertThat(o.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "torchlight");
        });
        Deployment deployment = rendered.one(Deployment.class);
        PodSpec pod = rendered.pod();
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());

        Container server = rendered.server();
        ServerConfig settings = rendered.settings();
        ServerContainer.assertServes(server, settings, pod.getSecurityContext().getRunAsNonRoot());
        assertThat(pod.getSecurityContext().getRunAsUser()).as("the image's uid").isEqualTo(1000L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getEnableServiceLinks()).as("no TORCHLIGHT_*_SERVICE_* variables").isFalse();
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(settings.modelRepository().toString()).isEqualTo("/models");
        assertThat(ServerContainer.port(server, "http")).isEqualTo(settings.httpPort());
        assertThat(ServerContainer.port(server, "grpc")).isEqualTo(settings.grpcPort());
        assertThat(ServerContainer.port(server, "metrics")).isEqualTo(settings.metricsPort());
        assertThat(settings.management().shutdownGrace().toSeconds())
                .as("the drain fits in the termination grace").isLessThan(pod.getTerminationGracePeriodSeconds());

        List<String> volumes = pod.getVolumes().stream().map(Volume::getName).toList();
        assertThat(volumes).doesNotHaveDuplicates();
        List<Container> containers = new ArrayList<>(pod.getContainers());
        containers.addAll(pod.getInitContainers());
        for (Container c : containers) {
            assertThat(c.getVolumeMounts()).extracting(VolumeMount::getName).as("%s's mounts", c.getName())
                    .allSatisfy(name -> assertThat(volumes).contains(name));
        }

        Service service = rendered.one(Service.class);
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        List<String> containerPorts = server.getPorts().stream().map(ContainerPort::getName).toList();
        assertThat(service.getSpec().getPorts()).allSatisfy(p ->
                assertThat(containerPorts).as("service port %s's target", p.getName()).contains(p.getTargetPort().getStrVal()));
        assertThat(service.getSpec().getPorts()).extracting(ServicePort::getName).contains("http", "grpc", "metrics");
        assertThat(service.getSpec().getPorts()).filteredOn(p -> p.getName().equals("grpc"))
                .extracting(ServicePort::getAppProtocol).containsExactly("kubernetes.io/h2c");

        for (HorizontalPodAutoscaler hpa : rendered.all(HorizontalPodAutoscaler.class)) {
            assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
            assertThat(deployment.getSpec().getReplicas()).as("the HPA owns the replica count").isNull();
        }
        for (PodMonitor monitor : rendered.all(PodMonitor.class)) {
            assertThat(podLabels).containsAllEntriesOf(monitor.getSpec().getSelector().getMatchLabels());
            assertThat(monitor.getSpec().getPodMetricsEndpoints()).allSatisfy(e -> {
                assertThat(containerPorts).contains(e.getPort());
                assertThat(e.getPath()).isEqualTo("/metrics");
            });
        }
    }

    @Test
    void defaultsServeTheImagesModelsWithKeysInMemory() {
        Rendered rendered = render("default");
        assertThat(rendered.objects()).extracting(HasMetadata::getKind)
                .containsExactlyInAnyOrder("ServiceAccount", "Service", "Deployment");
        ServerConfig settings = rendered.settings();
        assertThat(settings.modelName()).isNull();
        assertThat(settings.management().host()).as("management on loopback").isEqualTo("127.0.0.1");
        assertThat(settings.security().tokenAuth()).isTrue();
        assertThat(settings.security().keyFile().toString()).isEqualTo("/run/torchlight/keys.json");
        assertThat(rendered.pod().getVolumes()).filteredOn(v -> v.getName().equals("keys"))
                .singleElement().satisfies(v -> assertThat(v.getEmptyDir().getMedium()).isEqualTo("Memory"));
        assertThat(rendered.pod().getVolumes()).extracting(Volume::getName).doesNotContain("models");
        assertThat(settings.accessLog().toString()).isEqualTo("/dev/stdout");
        assertThat(rendered.one(Service.class).getSpec().getPorts()).extracting(ServicePort::getName)
                .containsExactly("http", "grpc", "metrics");
        assertThat(rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "8082");
        assertThat(rendered.server().getImage()).isEqualTo("torchlight:0.1.0");
        assertThat(rendered.server().getResources().getLimits()).doesNotContainKey("cpu");
    }

    @Test
    void gpuValuesAskForTheGpuAndTolerateItsTaint() {
        Rendered rendered = render("gpu");
        Container server = rendered.server();
        assertThat(server.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"))
                .containsEntry("memory", new Quantity("32Gi"));
        assertThat(server.getResources().getRequests()).containsEntry("nvidia.com/gpu", new Quantity("1"))
                .containsEntry("cpu", new Quantity("4"));
        PodSpec pod = rendered.pod();
        assertThat(pod.getTolerations()).extracting(Toleration::getKey, Toleration::getOperator, Toleration::getEffect)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("nvidia.com/gpu", "Exists", "NoSchedule"));
        assertThat(pod.getRuntimeClassName()).isEqualTo("nvidia");
        assertThat(pod.getNodeSelector()).containsEntry("nvidia.com/gpu.present", "true");
        assertThat(server.getImage()).isEqualTo("torchlight:0.1.0-cuda");
        assertThat(rendered.settings().modelName()).isEqualTo("resnet50");
        Volume models = pod.getVolumes().stream().filter(v -> v.getName().equals("models")).findFirst().orElseThrow();
        assertThat(models.getPersistentVolumeClaim().getClaimName()).isEqualTo("torchlight-models");
        assertThat(models.getPersistentVolumeClaim().getReadOnly()).isTrue();
        assertThat(server.getVolumeMounts()).filteredOn(m -> m.getName().equals("models")).singleElement()
                .satisfies(m -> {
                    assertThat(m.getMountPath()).isEqualTo("/models");
                    assertThat(m.getSubPath()).isEqualTo("resnet50");
                    assertThat(m.getReadOnly()).isTrue();
                });
    }

    @Test
    void monitoringValuesScaleOnTheMetricTheAdapterRuleServes() {
        Rendered rendered = render("monitoring");
        HorizontalPodAutoscaler hpa = rendered.one(HorizontalPodAutoscaler.class);
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(10);
        var metric = hpa.getSpec().getMetrics().getFirst();
        assertThat(metric.getType()).isEqualTo("Pods");
        assertThat(metric.getPods().getTarget().getType()).isEqualTo("AverageValue");
        assertThat(metric.getPods().getTarget().getAverageValue()).isEqualTo(new Quantity("8"));
        assertThat(hpa.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds()).isEqualTo(300);
        var rule = PrometheusAdapterRuleTest.queueDepthRule();
        assertThat(metric.getPods().getMetric().getName()).as("the adapter rule's metric").isEqualTo(rule.name().as());

        PodMonitor monitor = rendered.one(PodMonitor.class);
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
        assertThat(monitor.getSpec().getPodMetricsEndpoints().getFirst().getInterval()).isEqualTo("15s");
        assertThat(rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations()).isNullOrEmpty();
    }

    @Test
    void modelImageValuesCopyTheModelInAnInitContainer() {
        Rendered rendered = render("model-image");
        PodSpec pod = rendered.pod();
        Container init = pod.getInitContainers().stream().filter(c -> c.getName().equals("model-repository"))
                .findFirst().orElseThrow();
        assertThat(init.getImage()).isEqualTo("registry.example.com/models/mlp:3");
        assertThat(init.getCommand()).containsExactly("cp", "-R", "/models/mlp/.", "/repository/");
        assertThat(init.getSecurityContext()).isEqualTo(rendered.server().getSecurityContext());
        assertThat(init.getResources().getLimits()).containsKey("memory");
        Volume models = pod.getVolumes().stream().filter(v -> v.getName().equals("models")).findFirst().orElseThrow();
        assertThat(models.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("2Gi"));
        assertThat(rendered.settings().modelName()).isEqualTo("mlp");
    }

    @Test
    void imageVolumeValuesMountTheModelImage() {
        Rendered rendered = render("image-volume");
        Volume models = rendered.pod().getVolumes().stream().filter(v -> v.getName().equals("models"))
                .findFirst().orElseThrow();
        assertThat(models.getImage().getReference()).isEqualTo("registry.example.com/models/repository:2026-12-01");
        assertThat(models.getImage().getPullPolicy()).isEqualTo("Always");
        assertThat(rendered.server().getVolumeMounts()).filteredOn(m -> m.getName().equals("models"))
                .singleElement().satisfies(m -> assertThat(m.getSubPath()).isEqualTo("models"));
        ServerConfig settings = rendered.settings();
        assertThat(settings.models()).containsExactly("mlp", "resnet50");
        assertThat(settings.management().modelControl().name()).isEqualTo("NONE");
    }

    @Test
    void managementValuesExposeTheManagementApi() {
        Rendered rendered = render("management");
        ServerConfig settings = rendered.settings();
        assertThat(settings.management().host()).isEqualTo("0.0.0.0");
        assertThat(settings.management().port()).isEqualTo(ServerContainer.port(rendered.server(), "management"));
        assertThat(settings.security().tokenAuth()).isTrue();
        assertThat(settings.maxRequestSize()).isEqualTo(128L << 20);
        assertThat(settings.handlers().preprocessThreads()).isEqualTo(2);
        assertThat(rendered.server().getEnv()).extracting(e -> e.getName() + "=" + e.getValue())
                .contains("JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=50", "TORCHLIGHT_POLL_INTERVAL=30s");
        Service service = rendered.one(Service.class);
        assertThat(service.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(service.getSpec().getPorts()).extracting(ServicePort::getName).contains("management");
    }

    @Test
    void noAuthValuesTurnTheChecksOff() {
        Rendered rendered = render("no-auth");
        ServerConfig settings = rendered.settings();
        assertThat(settings.security().tokenAuth()).isFalse();
        assertThat(settings.management().host()).isEqualTo("127.0.0.1");
        assertThat(settings.accessLog()).isNull();
        assertThat(rendered.pod().getVolumes()).extracting(Volume::getName).doesNotContain("keys");
        assertThat(rendered.all(io.fabric8.kubernetes.api.model.ServiceAccount.class)).isEmpty();
        assertThat(rendered.pod().getServiceAccountName()).isEqualTo("models-reader");
    }

    @Test
    void aMisspeltValueIsRefused() {
        assertThatThrownBy(() -> render("default", t -> t.set("gpu.cuont", 1)))
                .hasMessageContaining("cuont");
        assertThatThrownBy(() -> render("default", t -> t.set("modelRepository.source", "s3")))
                .hasMessageContaining("/modelRepository/source");
    }

    @Test
    void incompleteOrUnsafeValuesAreRefused() {
        assertThatThrownBy(() -> render("default", t -> t.set("modelRepository.source", "pvc")))
                .hasMessageContaining("modelRepository.pvc.claimName");
        assertThatThrownBy(() -> render("default", t -> t.set("modelRepository.source", "image")))
                .hasMessageContaining("modelRepository.image.repository");
        assertThatThrownBy(() -> render("default", t -> t.set("management.expose", true).set("auth.enabled", false)))
                .hasMessageContaining("management.expose");
        assertThatThrownBy(() -> render("default", t -> t.set("modelRepository.modelName", "mlp")
                .set("modelRepository.models[0]", "a")))
                .hasMessageContaining("modelRepository.modelName");
    }

    @Test
    void anotherReleaseNameNamesEverythingAfterIt() {
        Rendered rendered = render("default", t -> t.withName("prod"));
        assertThat(rendered.objects()).extracting(o -> o.getMetadata().getName()).containsOnly("prod-torchlight");
    }
}
