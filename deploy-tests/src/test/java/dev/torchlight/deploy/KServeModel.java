package dev.torchlight.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodResourceClaim;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategy;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The fields KServe, KEDA and prometheus-adapter document for the objects in deploy/, as records
 * read strictly (see {@link Manifests#STRICT}): a field that is not here is an error. Kubernetes types
 * inside them are fabric8's. Enums hold the values each API accepts. Parts none of deploy/'s objects
 * use (worker specs, loggers, batchers, storage specs, transformers) are left out, so they fail too.
 *
 * <p>Sources: KServe's serving.kserve.io/v1alpha1 ServingRuntimeSpec and v1beta1 InferenceService
 * (PredictorSpec, ComponentExtensionSpec, ModelSpec, AutoScalingSpec), KEDA's keda.sh/v1alpha1
 * ScaledObject and its prometheus scaler, prometheus-adapter's discovery rules.
 */
final class KServeModel {
    private KServeModel() {
    }

    // --- serving.kserve.io/v1alpha1 ClusterServingRuntime --------------------------------------------

    record ClusterServingRuntime(String apiVersion, String kind, ObjectMeta metadata, ServingRuntimeSpec spec) {
    }

    /** ServingRuntimeSpec with ServingRuntimePodSpec inline. */
    record ServingRuntimeSpec(
            List<SupportedModelFormat> supportedModelFormats,
            Boolean multiModel,
            Boolean disabled,
            List<Protocol> protocolVersions,
            @JsonProperty("grpcEndpoint") String grpcEndpoint,
            String grpcDataEndpoint,
            String httpDataEndpoint,
            Integer replicas,
            StorageHelper storageHelper,
            BuiltInAdapter builtInAdapter,
            // ServingRuntimePodSpec
            List<Container> containers,
            List<Volume> volumes,
            Map<String, String> nodeSelector,
            Affinity affinity,
            List<Toleration> tolerations,
            Map<String, String> labels,
            Map<String, String> annotations,
            List<LocalObjectReference> imagePullSecrets,
            Boolean hostIPC,
            String schedulerName,
            List<PodResourceClaim> resourceClaims) {
    }

    record SupportedModelFormat(String name, String version, Boolean autoSelect, Integer priority) {
    }

    enum Protocol {
        @JsonProperty("v1") V1,
        @JsonProperty("v2") V2,
        @JsonProperty("grpc-v1") GRPC_V1,
        @JsonProperty("grpc-v2") GRPC_V2
    }

    record StorageHelper(Boolean disabled) {
    }

    record BuiltInAdapter(String serverType, Integer runtimeManagementPort, Integer memBufferBytes,
            Integer modelLoadingTimeoutMillis, List<EnvVar> env) {
    }

    // --- serving.kserve.io/v1beta1 InferenceService ------------------------------------------------

    /** The predictor is read in two steps: {@link Predictor} here, the rest as a PodSpec. */
    record InferenceService(String apiVersion, String kind, ObjectMeta metadata, InferenceServiceSpec spec) {
    }

    record InferenceServiceSpec(JsonNode predictor) {
    }

    /** PredictorSpec's own fields and ComponentExtensionSpec (both inline); the rest is a PodSpec. */
    record Predictor(
            String name,
            JsonNode model,
            List<StorageUri> storageUris,
            String storageContainerName,
            Integer minReplicas,
            Integer maxReplicas,
            Integer scaleTarget,
            ScaleMetric scaleMetric,
            MetricTargetType scaleMetricType,
            AutoScaling autoScaling,
            Long containerConcurrency,
            Long timeout,
            Long canaryTrafficPercent,
            Map<String, String> labels,
            Map<String, String> annotations,
            DeploymentStrategy deploymentStrategy) {
    }

    record StorageUri(String uri, String mountPath) {
    }

    enum ScaleMetric { cpu, memory, concurrency, rps }

    enum MetricTargetType { Utilization, Value, AverageValue }

    /** ModelSpec's own fields and PredictorExtensionSpec's; the rest is a Container. */
    record Model(
            ModelFormat modelFormat,
            String runtime,
            String storageUri,
            String runtimeVersion,
            Protocol protocolVersion) {
    }

    record ModelFormat(String name, String version) {
    }

    record AutoScaling(List<MetricsSpec> metrics, HorizontalPodAutoscalerBehavior behavior) {
    }

    enum MetricSourceType { Resource, External, PodMetric }

    record MetricsSpec(MetricSourceType type, ResourceMetricSource resource, ExternalMetricSource external,
            PodMetricSource podmetric) {
    }

    record ResourceMetricSource(ResourceMetric name, MetricTarget target) {
    }

    enum ResourceMetric { cpu, memory }

    record ExternalMetricSource(ExternalMetrics metric, ExtMetricAuthentication authenticationRef, MetricTarget target) {
    }

    enum MetricsBackend { prometheus, graphite }

    record ExternalMetrics(MetricsBackend backend, String serverAddress, String query, String namespace) {
    }

    record ExtMetricAuthentication(AuthenticationRef authenticationRef, String authModes) {
    }

    record AuthenticationRef(String name) {
    }

    record PodMetricSource(PodMetrics metric, MetricTarget target) {
    }

    record PodMetrics(String backend, String serverAddress, List<String> metricNames, String query,
            String operationOverTime) {
    }

    /** value and averageValue are quantities written as strings. */
    record MetricTarget(MetricTargetType type, String value, String averageValue, Integer averageUtilization) {
    }

    // --- keda.sh/v1alpha1 ScaledObject -------------------------------------------------------------

    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    record ScaledObjectSpec(
            ScaleTarget scaleTargetRef,
            Integer pollingInterval,
            Integer initialCooldownPeriod,
            Integer cooldownPeriod,
            Integer idleReplicaCount,
            Integer minReplicaCount,
            Integer maxReplicaCount,
            Advanced advanced,
            List<ScaleTrigger> triggers,
            Fallback fallback) {
    }

    record ScaleTarget(String name, String apiVersion, String kind, String envSourceContainerName) {
    }

    record Advanced(HorizontalPodAutoscalerConfig horizontalPodAutoscalerConfig, Boolean restoreToOriginalReplicaCount,
            ScalingModifiers scalingModifiers) {
    }

    record HorizontalPodAutoscalerConfig(HorizontalPodAutoscalerBehavior behavior, String name) {
    }

    record ScalingModifiers(String formula, String target, String activationTarget, String metricType) {
    }

    /** KEDA takes every trigger setting as a string. */
    record ScaleTrigger(String type, String name, Boolean useCachedMetrics, Map<String, String> metadata,
            TriggerAuthenticationRef authenticationRef, MetricTargetType metricType) {
    }

    record TriggerAuthenticationRef(String name, String kind) {
    }

    enum FallbackBehavior { @JsonProperty("static") STATIC, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower }

    record Fallback(Integer failureThreshold, Integer replicas, FallbackBehavior behavior) {
    }

    /** The prometheus scaler's settings. */
    static final java.util.Set<String> PROMETHEUS_TRIGGER_SETTINGS = java.util.Set.of("serverAddress", "query",
            "threshold", "activationThreshold", "namespace", "customHeaders", "ignoreNullValues", "queryParameters",
            "unsafeSsl", "timeout", "authModes");

    // --- prometheus-adapter (the prometheus-community chart's values) ------------------------------

    record AdapterValues(AdapterRules rules) {
    }

    record AdapterRules(@JsonProperty("default") Boolean defaultRules, List<DiscoveryRule> custom,
            List<DiscoveryRule> external, String existing) {
    }

    record DiscoveryRule(String seriesQuery, List<RegexFilter> seriesFilters, ResourceMapping resources,
            NameMapping name, String metricsQuery) {
    }

    record RegexFilter(String is, String isNot) {
    }

    record ResourceMapping(String template, Map<String, GroupResource> overrides, Boolean namespaced) {
    }

    record GroupResource(String group, String resource) {
    }

    record NameMapping(String matches, String as) {
    }
}
