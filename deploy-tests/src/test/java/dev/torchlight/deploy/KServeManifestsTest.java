package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.deploy.KServeModel.ClusterServingRuntime;
import dev.torchlight.deploy.KServeModel.InferenceService;
import dev.torchlight.deploy.KServeModel.MetricSourceType;
import dev.torchlight.deploy.KServeModel.MetricTargetType;
import dev.torchlight.deploy.KServeModel.Model;
import dev.torchlight.deploy.KServeModel.Predictor;
import dev.torchlight.deploy.KServeModel.Protocol;
import dev.torchlight.deploy.KServeModel.ScaleTrigger;
import dev.torchlight.deploy.KServeModel.ScaledObject;
import dev.torchlight.deploy.KServeModel.SupportedModelFormat;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.ObjectNode;

/**
 * deploy/kserve: the ClusterServingRuntimes and the example InferenceServices and ScaledObject read
 * strictly against the fields KServe and KEDA document, their containers and pod specs through
 * fabric8's Kubernetes model, and what the server makes of the runtime's arguments and environment
 * once KServe has merged an InferenceService into them.
 */
class KServeManifestsTest {
    private static final Path DIR = Manifests.root().resolve("deploy/kserve");
    private static final String STANDARD = "kserve-torchlight";
    private static final String KNATIVE = "kserve-torchlight-knative";

    /** An InferenceService with its inline parts read. */
    record Isvc(InferenceService service, Predictor predictor, PodSpec pod, Model model, Container container) {
        String name() {
            return service.metadata().getName();
        }

        String annotation(String key) {
            return service.metadata().getAnnotations() == null ? null : service.metadata().getAnnotations().get(key);
        }
    }

    static Map<String, ClusterServingRuntime> runtimes() {
        Map<String, ClusterServingRuntime> byName = new LinkedHashMap<>();
        for (ObjectNode doc : Manifests.documents(Manifests.read(DIR.resolve("runtime.yaml")))) {
            ClusterServingRuntime runtime = Manifests.strict(doc, ClusterServingRuntime.class, "runtime.yaml");
            assertThat(runtime.apiVersion()).isEqualTo("serving.kserve.io/v1alpha1");
            assertThat(runtime.kind()).isEqualTo("ClusterServingRuntime");
            byName.put(runtime.metadata().getName(), runtime);
        }
        return byName;
    }

    static Container container(ClusterServingRuntime runtime) {
        assertThat(runtime.spec().containers()).extracting(Container::getName).containsExactly("kserve-container");
        return runtime.spec().containers().getFirst();
    }

    /** The InferenceService and any ScaledObjects of one example file. */
    static List<Object> examples(String file) {
        List<Object> objects = new ArrayList<>();
        for (ObjectNode doc : Manifests.documents(Manifests.read(DIR.resolve(file)))) {
            switch (Manifests.typeOf(doc)) {
                case "serving.kserve.io/v1beta1/InferenceService" -> {
                    InferenceService service = Manifests.strict(doc, InferenceService.class, file);
                    var predictor = Manifests.split(service.spec().predictor(), Predictor.class, PodSpec.class,
                            file + " spec.predictor");
                    assertThat(predictor.own().model()).as("%s: spec.predictor.model", file).isNotNull();
                    var model = Manifests.split(predictor.own().model(), Model.class, Container.class,
                            file + " spec.predictor.model");
                    objects.add(new Isvc(service, predictor.own(), predictor.inline(), model.own(), model.inline()));
                }
                case "keda.sh/v1alpha1/ScaledObject" -> objects.add(Manifests.strict(doc, ScaledObject.class, file));
                default -> throw new AssertionError(file + ": an object of an unexpected kind " + Manifests.typeOf(doc));
            }
        }
        return objects;
    }

    static Isvc isvc(String file) {
        List<Isvc> found = examples(file).stream().filter(Isvc.class::isInstance).map(Isvc.class::cast).toList();
        assertThat(found).as("%s: one InferenceService", file).hasSize(1);
        return found.getFirst();
    }

    /**
     * The container KServe runs: the runtime's, with the InferenceService's args appended, its env
     * merged by name and its resources and image tag applied (ReplacePlaceholders, MergeRuntimeContainers,
     * UpdateImageTag).
     */
    static Container merged(ClusterServingRuntime runtime, Isvc isvc) {
        Container base = container(runtime);
        List<String> args = new ArrayList<>(base.getArgs());
        args.addAll(isvc.container().getArgs());
        Map<String, EnvVar> env = new LinkedHashMap<>();
        base.getEnv().forEach(e -> env.put(e.getName(), e));
        isvc.container().getEnv().forEach(e -> env.put(e.getName(), e));
        ContainerBuilder merged = new ContainerBuilder(base)
                .withArgs(args.stream().map(a -> a.replace("{{.Name}}", isvc.name())).toList())
                .withEnv(new ArrayList<>(env.values()));
        if (isvc.container().getResources() != null) {
            merged.withResources(isvc.container().getResources());
        }
        if (isvc.model().runtimeVersion() != null) {
            merged.withImage(base.getImage().replaceFirst(":[\\w.-]*$", ":" + isvc.model().runtimeVersion()));
        }
        return merged.build();
    }

    @Test
    void bothRuntimesRunTheServerAsKServeExpects() {
        Map<String, ClusterServingRuntime> runtimes = runtimes();
        assertThat(runtimes).containsOnlyKeys(STANDARD, KNATIVE);
        for (ClusterServingRuntime runtime : runtimes.values()) {
            Container container = container(runtime);
            ServerConfig settings = ServerContainer.settings(container, Map.of("{{.Name}}", "mlp"));
            ServerContainer.assertServes(container, settings, null);
            assertThat(settings.modelRepository().toString()).as("KServe's model mount").isEqualTo("/mnt/models");
            assertThat(settings.modelName()).as("served under the InferenceService's name").isEqualTo("mlp");
            assertThat(settings.httpPort()).isEqualTo(8080);
            assertThat(settings.grpcPort()).as("where KServe expects gRPC").isEqualTo(8081);
            assertThat(settings.management().port()).as("management out of gRPC's way").isNotEqualTo(8081);
            assertThat(settings.management().host()).isEqualTo("127.0.0.1");
            assertThat(settings.security().tokenAuth()).isTrue();
            assertThat(settings.management().shutdownGrace().toSeconds()).as("inside the default 30 s grace").isLessThan(30);
            assertThat(container.getSecurityContext().getRunAsUser()).as("the image's uid").isEqualTo(1000L);
            assertThat(container.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(container.getArgs()).as("args KServe appends to must not be repeated flags")
                    .containsExactly("serve", "--model-repository", "/mnt/models", "--model-name", "{{.Name}}");

            Map<String, String> annotations = runtime.spec().annotations();
            assertThat(annotations).containsEntry("prometheus.kserve.io/port", String.valueOf(settings.metricsPort()))
                    .containsEntry("prometheus.kserve.io/path", "/metrics");
            assertThat(runtime.spec().volumes()).extracting(Volume::getName).contains("tmp");
            assertThat(runtime.spec().volumes()).filteredOn(v -> v.getName().equals("tmp")).singleElement()
                    .satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
            assertThat(runtime.spec().multiModel()).isFalse();
            assertThat(runtime.spec().supportedModelFormats()).extracting(SupportedModelFormat::name, SupportedModelFormat::version)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("pytorch", "2"),
                            org.assertj.core.groups.Tuple.tuple("pytorch-aoti", "2"));
        }
    }

    @Test
    void theStandardRuntimeServesRestAndGrpcAndIsScrapedDirectly() {
        ClusterServingRuntime runtime = runtimes().get(STANDARD);
        Container container = container(runtime);
        assertThat(runtime.spec().protocolVersions()).containsExactly(Protocol.V2, Protocol.GRPC_V2, Protocol.V1);
        assertThat(runtime.spec().supportedModelFormats()).allSatisfy(f -> {
            assertThat(f.autoSelect()).isTrue();
            assertThat(f.priority()).as("below kserve-torchserve's 2 for pytorch").isEqualTo(1);
        });
        // The first port becomes the Service's port 80; KServe marks ports named h2c as HTTP/2.
        assertThat(container.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("http1", 8080),
                        org.assertj.core.groups.Tuple.tuple("h2c", 8081));
        assertThat(runtime.spec().annotations()).containsEntry("serving.kserve.io/enable-prometheus-scraping", "false")
                .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "8082")
                .containsEntry("prometheus.io/path", "/metrics");
    }

    @Test
    void theKnativeRuntimeDiffersOnlyInPortsSelectionAndScraping() {
        Map<String, ClusterServingRuntime> runtimes = runtimes();
        ClusterServingRuntime knative = runtimes.get(KNATIVE);
        Container container = container(knative);
        assertThat(container.getPorts()).as("Knative routes a single port")
                .extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("http1", 8080));
        assertThat(knative.spec().protocolVersions()).containsExactly(Protocol.V2, Protocol.V1);
        assertThat(knative.spec().supportedModelFormats()).allSatisfy(f -> assertThat(f.autoSelect()).isNull());
        assertThat(knative.spec().annotations()).containsEntry("serving.kserve.io/enable-metric-aggregation", "true")
                .containsEntry("serving.kserve.io/enable-prometheus-scraping", "true");

        Container standard = container(runtimes.get(STANDARD));
        Container same = new ContainerBuilder(standard).withPorts(container.getPorts()).build();
        assertThat(container).as("the Knative runtime's container, but for its ports").isEqualTo(same);
        assertThat(knative.spec().volumes()).isEqualTo(runtimes.get(STANDARD).spec().volumes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"inferenceservice-cpu.yaml", "inferenceservice-gpu.yaml", "inferenceservice-knative.yaml"})
    void inferenceServicesSelectTheRuntimeAndServeUnderTheirName(String file) {
        Isvc isvc = isvc(file);
        assertThat(isvc.service().apiVersion()).isEqualTo("serving.kserve.io/v1beta1");
        assertThat(isvc.service().kind()).isEqualTo("InferenceService");
        assertThat(isvc.name()).matches("[a-z]([-a-z0-9]*[a-z0-9])?");
        String mode = isvc.annotation("serving.kserve.io/deploymentMode");
        assertThat(mode).isIn("Standard", "Knative");
        String autoscaler = isvc.annotation("serving.kserve.io/autoscalerClass");
        if (autoscaler != null) {
            assertThat(mode).as("KServe's autoscaler classes are Standard mode's").isEqualTo("Standard");
            assertThat(autoscaler).isIn("hpa", "keda", "external", "none");
        }

        Map<String, ClusterServingRuntime> runtimes = runtimes();
        String runtimeName = isvc.model().runtime();
        assertThat(runtimeName).isEqualTo(mode.equals("Knative") ? KNATIVE : STANDARD);
        ClusterServingRuntime runtime = runtimes.get(runtimeName);
        assertThat(runtime.spec().supportedModelFormats())
                .anySatisfy(f -> {
                    assertThat(f.name()).isEqualTo(isvc.model().modelFormat().name());
                    assertThat(f.version()).isEqualTo(isvc.model().modelFormat().version());
                });
        assertThat(runtime.spec().protocolVersions()).contains(isvc.model().protocolVersion());
        assertThat(isvc.model().storageUri()).startsWith("pvc://");
        assertThat(isvc.pod().getEnableServiceLinks()).as("no TORCHLIGHT_*_SERVICE_* variables").isFalse();
        assertThat(isvc.predictor().minReplicas()).isPositive();
        assertThat(isvc.predictor().maxReplicas()).isGreaterThanOrEqualTo(isvc.predictor().minReplicas());

        Container container = merged(runtime, isvc);
        ServerConfig settings = ServerContainer.settings(container, Map.of());
        ServerContainer.assertServes(container, settings, null);
        assertThat(settings.modelName()).isEqualTo(isvc.name());
        long grace = isvc.pod().getTerminationGracePeriodSeconds() == null ? 30 : isvc.pod().getTerminationGracePeriodSeconds();
        assertThat(settings.management().shutdownGrace().toSeconds()).as("the drain fits in the grace").isLessThan(grace);
    }

    @Test
    void theCpuExampleScalesWithKedaOnItsQueueDepth() {
        Isvc isvc = isvc("inferenceservice-cpu.yaml");
        assertThat(isvc.annotation("serving.kserve.io/autoscalerClass")).isEqualTo("keda");
        var metrics = isvc.predictor().autoScaling().metrics();
        assertThat(metrics).hasSize(1);
        var metric = metrics.getFirst();
        assertThat(metric.type()).isEqualTo(MetricSourceType.External);
        assertThat(metric.external().metric().backend()).isEqualTo(KServeModel.MetricsBackend.prometheus);
        assertQueueDepthQuery(metric.external().metric().query(), isvc);
        assertThat(metric.external().target().type()).isEqualTo(MetricTargetType.Value);
        assertThat(Double.parseDouble(metric.external().target().value())).isPositive();
        assertThat(metric.external().metric().serverAddress()).startsWith("http");
    }

    @Test
    void theGpuExampleAsksForAGpuAndItsScaledObjectScalesThePredictor() {
        List<Object> objects = examples("inferenceservice-gpu.yaml");
        Isvc isvc = isvc("inferenceservice-gpu.yaml");
        assertThat(isvc.annotation("serving.kserve.io/autoscalerClass")).as("KServe leaves scaling to KEDA").isEqualTo("external");
        assertThat(isvc.container().getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(isvc.container().getResources().getRequests()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(isvc.pod().getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
        assertThat(merged(runtimes().get(STANDARD), isvc).getImage()).isEqualTo("torchlight:0.1.0-cuda");
        assertThat(isvc.model().modelFormat().name()).isEqualTo("pytorch-aoti");

        List<ScaledObject> scaled = objects.stream().filter(ScaledObject.class::isInstance).map(ScaledObject.class::cast).toList();
        assertThat(scaled).hasSize(1);
        ScaledObject so = scaled.getFirst();
        assertThat(so.apiVersion()).isEqualTo("keda.sh/v1alpha1");
        assertThat(so.metadata().getNamespace()).isEqualTo(isvc.service().metadata().getNamespace());
        assertThat(so.spec().scaleTargetRef().name()).as("KServe's predictor Deployment").isEqualTo(isvc.name() + "-predictor");
        assertThat(so.spec().scaleTargetRef().kind()).isEqualTo("Deployment");
        assertThat(so.spec().minReplicaCount()).isEqualTo(isvc.predictor().minReplicas());
        assertThat(so.spec().maxReplicaCount()).isEqualTo(isvc.predictor().maxReplicas());
        assertThat(so.spec().fallback().replicas()).isBetween(so.spec().minReplicaCount(), so.spec().maxReplicaCount());
        assertThat(so.spec().triggers()).hasSize(1);
        ScaleTrigger trigger = so.spec().triggers().getFirst();
        assertThat(trigger.type()).isEqualTo("prometheus");
        assertThat(trigger.metricType()).as("fallback needs AverageValue").isEqualTo(MetricTargetType.AverageValue);
        assertThat(KServeModel.PROMETHEUS_TRIGGER_SETTINGS).containsAll(trigger.metadata().keySet());
        assertThat(trigger.metadata()).containsKeys("serverAddress", "query", "threshold");
        assertThat(Double.parseDouble(trigger.metadata().get("threshold"))).isPositive();
        assertQueueDepthQuery(trigger.metadata().get("query"), isvc);
    }

    @Test
    void theKnativeExampleScalesOnRequestsInFlight() {
        Isvc isvc = isvc("inferenceservice-knative.yaml");
        assertThat(isvc.predictor().scaleMetric()).isEqualTo(KServeModel.ScaleMetric.concurrency);
        assertThat(isvc.predictor().scaleTarget()).isPositive();
        assertThat(isvc.predictor().autoScaling()).as("KEDA and HPA settings are Standard mode's").isNull();
    }

    @Test
    void everyMetricTheExamplesQueryIsDocumented() {
        Set<String> documented = DocumentedMetrics.documented();
        Stream.of("runtime.yaml", "inferenceservice-cpu.yaml", "inferenceservice-gpu.yaml", "inferenceservice-knative.yaml")
                .map(f -> DocumentedMetrics.used(Manifests.read(DIR.resolve(f))))
                .forEach(used -> assertThat(documented).containsAll(used));
    }

    /** Sums the queue depth of this InferenceService's model in its namespace. */
    private static void assertQueueDepthQuery(String query, Isvc isvc) {
        assertThat(query).startsWith("sum(torchlight_queue_depth{")
                .contains("model=\"" + isvc.name() + "\"")
                .contains("namespace=\"" + isvc.service().metadata().getNamespace() + "\"");
    }
}
