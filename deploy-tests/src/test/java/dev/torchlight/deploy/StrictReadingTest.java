package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/** The strict reading the other tests rely on does reject what Kubernetes, KServe or KEDA would. */
class StrictReadingTest {
    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: torchlight
            spec:
              selector:
                matchLabels: {app: torchlight}
              template:
                metadata:
                  labels: {app: torchlight}
                spec:
                  containers:
                    - name: torchlight
                      image: torchlight:0.1.0
                      readinessProbe:
                        httpGet: {%s: /v2/health/ready, port: 8080}
            """;

    @Test
    void fabric8AloneKeepsAMisspeltFieldThatStrictReadingRejects() {
        ObjectNode doc = Manifests.document(DEPLOYMENT.formatted("paht"));
        Deployment lenient = Manifests.LENIENT.treeToValue(doc, Deployment.class);
        assertThat(lenient.getSpec().getTemplate().getSpec().getContainers().getFirst().getReadinessProbe()
                .getHttpGet().getAdditionalProperties()).containsKey("paht");
        assertThatThrownBy(() -> Manifests.assertNoAdditionalProperties(lenient, "deployment"))
                .hasMessageContaining("paht").hasMessageContaining("HTTPGetAction");

        assertThatThrownBy(() -> Manifests.kubernetesObject(doc, "test:")).hasMessageContaining("paht");
        assertThat(Manifests.kubernetesObject(Manifests.document(DEPLOYMENT.formatted("path")), "test:"))
                .isInstanceOf(Deployment.class);
    }

    @Test
    void aNumberWhereKubernetesWantsAStringIsRejected() {
        String yaml = DEPLOYMENT.formatted("path").replace("labels: {app: torchlight}\n    spec:",
                "labels: {app: torchlight}\n      annotations: {prometheus.io/port: 8082}\n    spec:");
        assertThat(yaml).contains("prometheus.io/port: 8082");
        assertThatThrownBy(() -> Manifests.kubernetesObject(Manifests.document(yaml), "test:"))
                .hasMessageContaining("annotations");
    }

    @Test
    void duplicateKeysAreRejected() {
        assertThatThrownBy(() -> Manifests.document("a: 1\nb: 2\na: 3\n")).hasMessageContaining("a");
    }

    @Test
    void anUnknownKindIsRejected() {
        assertThatThrownBy(() -> Manifests.kubernetesObject(Manifests.document("apiVersion: v1\nkind: Secret\n"), "test:"))
                .hasMessageContaining("v1/Secret");
    }

    @Test
    void recordsRejectUnknownFieldsAndValues() {
        assertThatThrownBy(() -> Manifests.strict(Manifests.document("name: pytorch\nautoselect: true\n"),
                KServeModel.SupportedModelFormat.class, "format")).hasMessageContaining("autoselect");
        assertThatThrownBy(() -> Manifests.strict(Manifests.document("type: Externel\n"),
                KServeModel.MetricsSpec.class, "metric")).hasMessageContaining("Externel");
        assertThatThrownBy(() -> Manifests.strict(Manifests.document("type: prometheus\nmetadata: {threshold: 4}\n"),
                KServeModel.ScaleTrigger.class, "trigger")).hasMessageContaining("metadata");
    }

    @Test
    void anInlineSplitRejectsAFieldNeitherPartKnows() {
        ObjectNode predictor = Manifests.document("""
                minReplicas: 1
                tolerations: [{key: nvidia.com/gpu, operator: Exists}]
                model: {modelFormat: {name: pytorch}}
                """);
        var split = Manifests.split(predictor, KServeModel.Predictor.class, PodSpec.class, "predictor");
        assertThat(split.own().minReplicas()).isEqualTo(1);
        assertThat(split.inline().getTolerations()).hasSize(1);

        predictor.put("minReplica", 1);
        assertThatThrownBy(() -> Manifests.split(predictor, KServeModel.Predictor.class, PodSpec.class, "predictor"))
                .hasMessageContaining("minReplica");
        assertThatThrownBy(() -> Manifests.split(Manifests.document("runtime: x\nargz: [a]\n"),
                KServeModel.Model.class, Container.class, "model")).hasMessageContaining("argz");
    }
}
